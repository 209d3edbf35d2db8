"""Run localstripe (the fake Stripe server used by `make run` and the tests) with its store in
a file of our choosing.

localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle, shared by every
localstripe on the machine, so a test run would overwrite the demo's fake Stripe data. This
launcher points the store at ``--store`` instead and then starts localstripe as usual.

    python -m escrow.devstripe --port 8420 --store var/localstripe.pickle [--from-scratch]
"""

import argparse
import pickle
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--store", required=True, help="file that keeps the fake Stripe data")
    parser.add_argument("--from-scratch", action="store_true")
    args = parser.parse_args(argv)

    from localstripe import resources, server

    store_path = args.store

    def try_load_from_disk(self) -> None:
        try:
            with open(store_path, "rb") as store_file:
                old = pickle.load(store_file)  # noqa: S301 - our own file, written below
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self) -> None:
        with open(store_path, "wb") as store_file:
            pickle.dump(self, store_file, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk
    sys.argv = [sys.argv[0], "--port", str(args.port)]
    if args.from_scratch:
        sys.argv.append("--from-scratch")
    server.start()


if __name__ == "__main__":
    main()
