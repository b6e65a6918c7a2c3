"""Pruning the delivery log: old, finished events go; anything still waiting stays."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.db import utcnow
from service.sites.models import Site
from service.webhooks.log import prune_log
from service.webhooks.models import Attempt, Delivery, DeliveryState, Message
from tests.webhooks.conftest import register, submit
from workers.webhooks import deliver

HOOK = "http://127.0.0.1:9/hook"


def count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_old_events_whose_deliveries_finished_are_pruned_with_their_log(
    app: Flask, session: Session, site: Site
) -> None:
    register(app, session, site, HOOK)
    old_done, old_waiting, recent_done = (submit(app, session, site, t) for t in "abc")
    for delivery in session.scalars(select(Delivery)):
        deliver.run(delivery.id)  # nothing listens on port 9: one failed attempt each
    month_ago = utcnow() - dt.timedelta(days=31)
    messages = {m.payload["data"]["comment"]["id"]: m.id for m in session.scalars(select(Message))}
    session.execute(
        update(Message)
        .where(Message.id.in_([messages[old_done.id], messages[old_waiting.id]]))
        .values(created_at=month_ago)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.message_id.in_([messages[old_done.id], messages[recent_done.id]]))
        .values(state=DeliveryState.FAILED)
    )
    session.commit()
    assert count(session, Attempt) == 3

    pruned = prune_log(session, utcnow() - dt.timedelta(days=30))
    session.commit()

    assert pruned == 1
    assert set(session.scalars(select(Message.id))) == {
        messages[old_waiting.id],
        messages[recent_done.id],
    }
    assert count(session, Delivery) == count(session, Attempt) == 2
