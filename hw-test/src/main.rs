fn main() {
    eprintln!(
        "cabin-voice hw-test: bench binaries `bench` (end-to-end, docs/BENCH.md), \
         `asr-bench`, `nlu-bench`, `nlu-model`"
    );
}
