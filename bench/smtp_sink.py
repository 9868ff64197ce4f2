"""A local SMTP sink for the benchmarks: accepts every message, keeps none, and appends one line
per message ("<epoch seconds> <bytes>") to the file given, so a benchmark can tell when the last
e-mail was handed to the mail server.

    .venv/bin/python bench/smtp_sink.py 127.0.0.1 8025 bench/out/smtp.log
"""

from __future__ import annotations

import asyncore
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import smtpd  # noqa: E402 - stdlib until Python 3.12; enough for a sink


class Sink(smtpd.SMTPServer):
    def __init__(self, host: str, port: int, log: str) -> None:
        super().__init__((host, port), None, decode_data=False)
        self.log = open(log, "a", buffering=1)  # noqa: SIM115 - open for the server's life

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):  # noqa: ANN001
        self.log.write(f"{time.time():.6f} {len(data)}\n")


if __name__ == "__main__":
    Sink(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    asyncore.loop()
