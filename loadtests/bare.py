"""A bare FastHttpUser locustfile: the baseline the capture overhead is measured against.

No event listeners, no mix, no think time: one GET of GAMEDAY_BARE_PATH (default /health)
per task, as fast as the user can go.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

PATH = os.environ.get("GAMEDAY_BARE_PATH", "/health")


class BareUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(PATH)
