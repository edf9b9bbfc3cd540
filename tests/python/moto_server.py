"""Run moto's server (S3, Kinesis, ...) on 127.0.0.1 for the test suite.

Prints the port it listens on, then serves until the process that started it
exits, so a test binary never leaves a server behind.
"""

import logging
import os
import socket
import sys
import time

from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    # One line per request would bury the test output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parent = os.getppid()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(port, flush=True)
    while os.getppid() == parent:
        time.sleep(0.2)
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
