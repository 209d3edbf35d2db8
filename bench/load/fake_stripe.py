"""localstripe for the load test: as ``python -m escrow.devstripe`` but keeping its store in
memory only. localstripe pickles its whole store after every write; with thousands of
SetupIntents that alone would make the fake Stripe the bottleneck of the run.

    python bench/load/fake_stripe.py --port 8421
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    from localstripe import resources, server

    from escrow.devstripe import speak_current_api

    resources.Store.try_load_from_disk = lambda self: None
    resources.Store.dump_to_disk = lambda self: None
    speak_current_api()
    sys.argv = [sys.argv[0], "--port", str(args.port), "--from-scratch"]
    server.start()


if __name__ == "__main__":
    main()
