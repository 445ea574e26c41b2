#!/usr/bin/env python3
"""cabin-voice external plugin "maintenance", in Python with the standard library.

MQTT goes through the Debian mosquitto-clients tools: one `mosquitto_sub`
process receives the requests (and the vehicle state the plugin reads), each
answer is one `mosquitto_pub`. Protocol: docs/PROTOCOL.md, "External plugins".

    python3 plugin.py [--mqtt HOST:PORT] [--prefix cabin] [--interval-km 15000]

Prints "ready" on stdout once its subscriptions are in place at the broker.
"""

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading

NAME = "maintenance"


def die_with_parent():
    """The child processes end with this one (Linux PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)
    except OSError:
        pass


class Mqtt:
    def __init__(self, host, port, prefix):
        self.host, self.port, self.prefix = host, str(port), prefix.rstrip("/")
        self.requests = f"{self.prefix}/plugin/{NAME}/request"
        self.responses = f"{self.prefix}/plugin/{NAME}/response"
        self.probe = f"{self.prefix}/plugin/{NAME}/probe/{os.getpid()}"
        self.state_prefix = f"{self.prefix}/state/"
        topics = [
            self.requests,
            self.probe,
            self.state_prefix + "Vehicle.Service.DistanceToService",
            self.state_prefix + "Vehicle.TraveledDistance",
        ]
        cmd = ["mosquitto_sub", "-h", self.host, "-p", self.port, "-q", "1", "-v"]
        for t in topics:
            cmd += ["-t", t]
        self.sub = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
            preexec_fn=die_with_parent,
        )

    def publish(self, topic, payload):
        subprocess.run(
            ["mosquitto_pub", "-h", self.host, "-p", self.port, "-q", "1",
             "-t", topic, "-m", payload],
            check=False, preexec_fn=die_with_parent,
        )

    def messages(self):
        """(topic, payload) pairs; `mosquitto_sub -v` prints "topic payload"."""
        for line in self.sub.stdout:
            topic, _, payload = line.rstrip("\n").partition(" ")
            yield topic, payload

    def announce_when_subscribed(self, seen):
        """Publishes probes on our own topic until one comes back: then every
        subscription of the (single) SUBSCRIBE is in place."""
        while not seen.wait(0.1):
            self.publish(self.probe, "probe")


def answer(request, state, interval_km):
    zh = request.get("lang") == "zh"
    left = state.get("Vehicle.Service.DistanceToService")
    if left is None and state.get("Vehicle.TraveledDistance") is not None:
        odo = state["Vehicle.TraveledDistance"]
        left = interval_km - odo % interval_km
    if left is None:
        return {"ok": False, "error": "no service distance or odometer state",
                "reply": "抱歉，现在读不到里程信息。" if zh
                else "Sorry, I can't read the mileage right now."}
    left = int(round(left))
    if left <= 0:
        reply = "车辆已经到保养时间了。" if zh else "Your car is due for service now."
    elif zh:
        reply = f"距离下次保养还有{left}公里。"
    else:
        reply = f"Your next service is due in {left} km."
    return {"ok": True, "reply": reply}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mqtt", default="127.0.0.1:1883", help="broker HOST:PORT")
    ap.add_argument("--prefix", default="cabin")
    ap.add_argument("--interval-km", type=float, default=15000.0)
    args = ap.parse_args()
    host, _, port = args.mqtt.rpartition(":")
    mqtt = Mqtt(host or "127.0.0.1", int(port), args.prefix)
    signal.signal(signal.SIGTERM, lambda *_: (mqtt.sub.terminate(), sys.exit(0)))

    seen = threading.Event()
    threading.Thread(target=mqtt.announce_when_subscribed, args=(seen,), daemon=True).start()
    state = {}
    for topic, payload in mqtt.messages():
        if topic == mqtt.probe:
            if not seen.is_set():
                seen.set()
                print("ready", flush=True)
            continue
        if topic.startswith(mqtt.state_prefix):
            try:
                value = json.loads(payload)["value"]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    state[topic[len(mqtt.state_prefix):]] = float(value)
            except (ValueError, KeyError, TypeError):
                print(f"ignored state on {topic}", file=sys.stderr, flush=True)
            continue
        if topic == mqtt.requests:
            try:
                request = json.loads(payload)
                rid = request["id"]
            except (ValueError, KeyError, TypeError):
                print("ignored malformed request", file=sys.stderr, flush=True)
                continue
            response = answer(request, state, args.interval_km)
            response["id"] = rid
            mqtt.publish(mqtt.responses, json.dumps(response, ensure_ascii=False))
            print(f"answered {rid}", flush=True)
    return 1  # mosquitto_sub ended: the broker went away


if __name__ == "__main__":
    sys.exit(main())
