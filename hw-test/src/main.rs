fn main() {
    eprintln!("cabin-voice hw-test: see docs (bench binaries: nlu-bench)");
}
