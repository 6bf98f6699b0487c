#!/usr/bin/env python3
"""How much resident memory a ROS 2 process keeps per publisher it creates and destroys: what
the node does for every face (five ROS4HRI topics per face id), without any of the node's code.

  . third_party/ros/env.sh
  unshare -rn sh -c 'ip link set lo up && python3 scripts/topic_churn_rss.py --rounds 2000'

Each round creates the five per-face publishers of --faces faces, publishes once on each and
destroys them. With --same-names the faces reuse the same topic names every round; by default
every face has a new id, as in ROS4HRI. Prints RSS every 200 rounds and the growth per face
after the first 100 rounds (RELIABILITY.md, "Soak": ~2.5 KiB per face with new names, ~1.5 with
reused names, on the pip ROS 2 Jazzy wheels with Fast DDS 2.14).
"""
import argparse
import os

import rclpy
from rclpy.qos import QoSProfile
from sensor_msgs.msg import RegionOfInterest
from std_msgs.msg import String

TOPICS = ("roi", "expression", "landmarks", "cropped", "aligned")


def rss_kib():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--faces", type=int, default=3, help="faces created and destroyed per round")
    ap.add_argument("--same-names", action="store_true", help="reuse the faces' topic names every round")
    args = ap.parse_args()
    rclpy.init()
    node = rclpy.create_node("topic_churn")
    warm = 100
    base = None
    for r in range(args.rounds):
        pubs = []
        for i in range(args.faces):
            face = f"x{i}" if args.same_names else f"f{r}_{i}"
            for t in TOPICS:
                kind = RegionOfInterest if t == "roi" else String
                pubs.append(node.create_publisher(kind, f"/humans/faces/{face}/{t}", QoSProfile(depth=1)))
        for p in pubs:
            p.publish(p.msg_type())
        for p in pubs:
            node.destroy_publisher(p)
        if r == warm:
            base = rss_kib()
        if r % 200 == 0:
            print(f"round {r}: RSS {rss_kib()} KiB", flush=True)
    faces = (args.rounds - 1 - warm) * args.faces
    print(f"{(rss_kib() - base) / faces:.2f} KiB per face over {faces} faces after round {warm}")
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
