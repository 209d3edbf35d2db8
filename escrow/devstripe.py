"""Run localstripe (the fake Stripe server used by `make run` and the tests) with its store in
a file of our choosing, or in memory only.

localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle, shared by every
localstripe on the machine, so a test run would overwrite the demo's fake Stripe data. This
launcher points the store at ``--store`` instead (``--store none``: kept in memory, never
written, as the tests want: the write after every change costs more the more the store holds),
teaches localstripe the parameter names of the Stripe API version our SDK speaks
(:func:`speak_current_api`), and then serves localstripe's app as its ``start()`` does.

``--port 0`` takes a port the system picks while binding, and ``--port-file`` names a file
the port number is written to once the socket listens: no window between choosing a free port
and binding it in which another process (a parallel test worker) can take it.

    python -m escrow.devstripe --port 8420 --store var/localstripe.pickle [--from-scratch]
    python -m escrow.devstripe --port 0 --port-file PATH --store none
"""

import argparse
import logging
import os
import pickle
import socket


def speak_current_api() -> None:
    """localstripe 1.15 predates API version 2026-09-30.endive, which replaced the writable
    ``payment_method_types`` of PaymentIntents and SetupIntents with
    ``allowed_payment_method_types`` (Stripe now answers 400
    ``payment_method_types_no_longer_supported`` to the old name; the stripe SDK we use pins a
    later version). Accept the new name as localstripe's old one, so the gateway sends the same
    request to localstripe as to Stripe."""
    # localstripe is an optional development dependency (the demo extra), not installed in
    # production: this module imports without it.
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
    parser.add_argument("--port", type=int, default=8420, help="0: one the system picks")
    parser.add_argument("--port-file", help="write the port listened on to this file")
    parser.add_argument(
        "--store", required=True, help="file that keeps the fake Stripe data ('none': memory)"
    )
    parser.add_argument("--from-scratch", action="store_true")
    args = parser.parse_args(argv)

    # Optional development dependencies (localstripe and the aiohttp it serves with).
    from aiohttp import web
    from localstripe import resources, server

    store_path = None if args.store == "none" else args.store

    def try_load_from_disk(self) -> None:
        if store_path is None:
            return
        try:
            with open(store_path, "rb") as store_file:
                old = pickle.load(store_file)  # noqa: S301 - our own file, written below
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self) -> None:
        if store_path is None:
            return
        with open(store_path, "wb") as store_file:
            pickle.dump(self, store_file, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk
    speak_current_api()
    if not args.from_scratch:
        server.store.try_load_from_disk()
    # As localstripe's start(): one socket on [::], which takes IPv4 connections too.
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::", args.port))
    sock.listen(128)
    if args.port_file:
        # Written whole and then renamed, so a reader never sees half a number.
        partial = f"{args.port_file}.partial"
        with open(partial, "w") as port_file:
            port_file.write(str(sock.getsockname()[1]))
        os.replace(partial, args.port_file)
    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.DEBUG)
    access_log.addHandler(logging.StreamHandler())
    web.run_app(server.app, sock=sock, access_log=access_log)


if __name__ == "__main__":
    main()
