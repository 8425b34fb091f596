"""A run's answers: each question asked once while it succeeds, shared across the run's event loops and by whoever
asks while it is in flight; a failure is never kept, and a cancelled caller cancels nobody else's request."""

import asyncio

import pytest

from mida_pipeline.sources.answers import RunAnswers


class Api:
    """Counts the calls; each answers after `delay` with the call's number, or raises what `failures` holds next."""

    def __init__(self, delay: float = 0.0, failures=()):
        self.calls, self.delay, self.failures = 0, delay, list(failures)

    async def __call__(self):
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return self.calls


def test_a_question_is_asked_once_across_the_event_loops_of_a_run():
    answers, api = RunAnswers(), Api()
    assert asyncio.run(answers.once("q", api)) == 1
    assert asyncio.run(answers.once("q", api)) == 1  # the next asset's loop
    assert asyncio.run(answers.once("other", api)) == 2
    assert api.calls == 2


def test_callers_asking_while_it_is_in_flight_share_one_request():
    answers, api = RunAnswers(), Api(delay=0.05)

    async def many():
        return await asyncio.gather(*(answers.once("q", api) for _ in range(5)))

    assert asyncio.run(many()) == [1] * 5
    assert api.calls == 1


def test_a_failure_reaches_every_waiter_and_is_asked_again_next_time():
    answers, api = RunAnswers(), Api(delay=0.05, failures=[ValueError("502 from the API")])

    async def many():
        return await asyncio.gather(*(answers.once("q", api) for _ in range(3)), return_exceptions=True)

    outcomes = asyncio.run(many())
    assert all(isinstance(o, ValueError) for o in outcomes) and api.calls == 1
    assert asyncio.run(answers.once("q", api)) == 2  # not kept: the next caller asks, as it would alone
    assert answers.flights == {}


def test_a_cancelled_waiter_leaves_the_request_to_the_others():
    answers, api = RunAnswers(), Api(delay=0.1)

    async def scene():
        leader = asyncio.ensure_future(answers.once("q", api))
        await asyncio.sleep(0)
        waiter = asyncio.ensure_future(answers.once("q", api))
        await asyncio.sleep(0.01)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return await leader

    assert asyncio.run(scene()) == 1 and api.calls == 1


def test_when_the_asker_is_cancelled_a_waiter_asks_itself():
    answers, api = RunAnswers(), Api(delay=0.1)

    async def scene():
        leader = asyncio.ensure_future(answers.once("q", api))
        await asyncio.sleep(0)
        waiter = asyncio.ensure_future(answers.once("q", api))
        await asyncio.sleep(0.01)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await waiter

    assert asyncio.run(scene()) == 2 and api.calls == 2
    assert answers.flights == {}
