"""Run localstripe (the fake Stripe server used by `make run` and the tests) with its store in
a file of our choosing.

localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle, shared by every
localstripe on the machine, so a test run would overwrite the demo's fake Stripe data. This
launcher points the store at ``--store`` instead, teaches localstripe the parameter names of
the Stripe API version our SDK speaks (:func:`speak_current_api`), and then starts localstripe as
usual.

    python -m escrow.devstripe --port 8420 --store var/localstripe.pickle [--from-scratch]
"""

import argparse
import pickle
import sys


def speak_current_api() -> None:
    """localstripe 1.15 predates API version 2026-09-30.endive, which replaced the writable
    ``payment_method_types`` of PaymentIntents and SetupIntents with
    ``allowed_payment_method_types`` (Stripe now answers 400
    ``payment_method_types_no_longer_supported`` to the old name; the stripe SDK we use pins a
    later version). Accept the new name as localstripe's old one, so the gateway sends the same
    request to localstripe as to Stripe."""
    from localstripe import resources

    for resource in (resources.PaymentIntent, resources.SetupIntent):
        original_init = resource.__init__

        def __init__(self, *args, _original_init=original_init, **kwargs):
            if "allowed_payment_method_types" in kwargs:
                kwargs["payment_method_types"] = kwargs.pop("allowed_payment_method_types")
            _original_init(self, *args, **kwargs)

        resource.__init__ = __init__


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
    speak_current_api()
    sys.argv = [sys.argv[0], "--port", str(args.port)]
    if args.from_scratch:
        sys.argv.append("--from-scratch")
    server.start()


if __name__ == "__main__":
    main()
