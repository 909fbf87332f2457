import threading
import time

import pytest

from rag.core.errors import Busy, Cancelled, TimedOut
from rag.service.gate import Gate


def test_requests_beyond_slots_and_queue_are_refused_at_once():
    gate = Gate(slots=1, queue=1)
    first, second = gate.admit(), gate.admit()
    with pytest.raises(Busy) as busy:
        gate.admit()
    assert busy.value.status == 503 and busy.value.retry_after >= 1
    first.wait()
    assert gate.waiting == 1
    first.release()
    second.wait()  # the freed slot goes to the waiting request
    second.release()
    assert gate.admitted == 0
    gate.admit().release()


def test_waiting_too_long_is_busy_and_frees_the_queue_place():
    gate = Gate(slots=1, queue=1, queue_timeout_s=0.3)
    holder = gate.admit()
    holder.wait()
    waiter = gate.admit()
    with pytest.raises(Busy):
        waiter.wait()
    assert gate.admitted == 1
    holder.release()


def test_cancel_stops_generation_and_frees_the_slot():
    gate = Gate(slots=1, queue=0)
    ticket = gate.admit()
    ticket.wait()
    produced = []

    def generate(on_token):
        for i in range(1000):
            on_token(str(i))
            produced.append(i)
            time.sleep(0.001)

    def run():
        with ticket:
            try:
                generate(ticket.chain(None))
            except Cancelled:
                pass

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.05)
    ticket.cancel()
    worker.join(timeout=5)
    assert not worker.is_alive() and 0 < len(produced) < 1000
    assert gate.admitted == 0
    gate.admit().release()  # the slot is free again


def test_deadline_stops_generation():
    ticket = Gate().admit(timeout_s=0.05)
    ticket.wait()
    time.sleep(0.1)
    with pytest.raises(TimedOut):
        ticket.on_token("x")
    ticket.release()
    ticket.release()  # idempotent
