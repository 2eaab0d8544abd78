"""A realistic mix against a running Waymark: stakeholders reading the external roadmap, engineers
pulling priorities, PMs reading the table and editing inputs. Driven by tests/load/run.py, which
passes what it seeded in the environment."""

import os
import random

from locust import HttpUser, between, task

PRODUCT = os.environ["LOAD_PRODUCT"]
# A product of 100k features in another workspace (run.py seeds it): its table's first page.
BIG_PRODUCT = os.environ.get("LOAD_BIG_PRODUCT", "")
TOKEN = os.environ["LOAD_TOKEN"]
SHARE = os.environ.get("LOAD_SHARE_TOKEN", "")
FEATURE_IDS = [int(x) for x in os.environ["LOAD_FEATURE_IDS"].split(",")]
EMAIL = os.environ["LOAD_EMAIL"]
PASSWORD = os.environ["LOAD_PASSWORD"]


class Stakeholder(HttpUser):
    weight = 4
    wait_time = between(0.5, 2)

    @task
    def external_roadmap(self):
        if SHARE:
            self.client.get(f"/r/{SHARE}/", name="external roadmap")
        else:
            self.client.get("/healthz", name="healthz")


class Engineer(HttpUser):
    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"

    @task(3)
    def priorities(self):
        self.client.get(f"/api/v1/products/{PRODUCT}/priorities/?limit=50", name="api priorities")

    @task(1)
    def features_page(self):
        self.client.get(f"/api/v1/features/?product={PRODUCT}&page_size=50", name="api features")


class ProductManager(HttpUser):
    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        self.client.get("/accounts/login/", name="login page")
        self.client.post(
            "/accounts/login/",
            {"username": EMAIL, "password": PASSWORD},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name="login",
        )
        self.api_headers = {"Authorization": f"Bearer {TOKEN}"}

    @task(3)
    def table(self):
        self.client.get(f"/products/{PRODUCT}/", name="pm product page")

    @task(1)
    def big_table(self):
        if BIG_PRODUCT:
            self.client.get(f"/products/{BIG_PRODUCT}/", name="pm product page, 100k features")

    @task(1)
    def inline_edit(self):
        feature = random.choice(FEATURE_IDS)
        self.client.patch(
            f"/api/v1/features/{feature}/",
            json={"effort": str(random.choice([0.5, 1, 2, 3, 5, 8]))},
            headers=self.api_headers,
            name="edit effort",
        )
