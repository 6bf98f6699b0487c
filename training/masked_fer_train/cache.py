"""python -m masked_fer_train.cache: decode FER2013 once and find face landmarks (about 15 min)."""
import argparse

from .fer_data import build_cache

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    print(build_cache(ap.parse_args().threads))
