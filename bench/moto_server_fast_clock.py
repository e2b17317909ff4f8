#!/usr/bin/env python3
"""moto_server for the fault soak, with moto's SQS models reading the clock through time.time().

moto recomputes a queue's attributes (three passes over every message in it, each message's
`visible`/`delayed` reading the clock) on every FIFO SendMessage and, for each message it
returns, on every ReceiveMessage; its clock is a datetime computation of about 30 µs on a
loaded VM. With 2000 messages in the intake queue and up to 2000 in a topic's subscriber
queue that is about a quarter of a CPU second per message published, which capped the
2000-message AWS soak at about one message a second. time.time() gives the same instant
(moto's own clock is UTC seconds since the epoch, without freezegun in server mode) about 100
times faster; nothing else changes. Arguments are moto_server's.
"""

import sys
import time

import moto.sqs.models as sqs_models
from moto.core.utils import unix_time as moto_unix_time


def unix_time(dt=None) -> float:
    return time.time() if dt is None else moto_unix_time(dt)


def unix_time_millis(dt=None) -> float:
    return unix_time(dt) * 1000.0


sqs_models.unix_time = unix_time
sqs_models.unix_time_millis = unix_time_millis

if __name__ == "__main__":
    from moto.server import main
    sys.exit(main())
