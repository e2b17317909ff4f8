#!/usr/bin/env python3
"""moto_server for the fault soak, with two of moto's SQS shortcomings mended; arguments are
moto_server's. Nothing else changes.

1. A fast clock. moto recomputes a queue's attributes (three passes over every message in it,
   each message's `visible`/`delayed` reading the clock) on every FIFO SendMessage and, for
   each message it returns, on every ReceiveMessage; its clock is a datetime computation of
   about 30 µs on a loaded VM. With 2000 messages in the intake queue and up to 2000 in a
   topic's subscriber queue that is about a quarter of a CPU second per message published,
   which capped the 2000-message AWS soak at about one message a second. time.time() gives the
   same instant (moto's clock is UTC seconds since the epoch; no freezegun in server mode)
   about 100 times faster.
2. DeleteMessage under the queue's lock. moto's Queue.delete_message rebuilds the message list
   without the lock that SendMessage appends under, so a message sent while another is deleted
   from the same queue can vanish: 3 of 600 in a test with 4 senders and 3 deleting receivers
   on one queue (moto 5.2.1). The soak sends and deletes on the intake queue all the time, and
   lost one acknowledged notification that way before this.
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

_unlocked_delete_message = sqs_models.Queue.delete_message


def delete_message(self, receipt_handle: str) -> None:
    with self._messages_lock:
        _unlocked_delete_message(self, receipt_handle)


sqs_models.Queue.delete_message = delete_message

if __name__ == "__main__":
    from moto.server import main
    sys.exit(main())
