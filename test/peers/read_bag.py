#!/usr/bin/env python3
"""Read a bag with PyPI `rosbags` (types from the bag's own embedded definitions) and print every
message as one JSON line: {"topic", "type", "time", "msg"}. Fails loudly on anything it cannot read.

  python test/peers/read_bag.py BAG
"""
import json
import pathlib
import sys

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore


def plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__ if k != "__msgtype__"}
    return value


def main():
    path = pathlib.Path(sys.argv[1])
    with AnyReader([path], default_typestore=get_typestore(Stores.EMPTY)) as reader:
        for conn, t, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            print(json.dumps({"topic": conn.topic, "type": conn.msgtype, "time": t, "msg": plain(msg)}))


if __name__ == "__main__":
    main()
