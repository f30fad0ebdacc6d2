"""Nightly churn-model retraining as an Airflow DAG (TaskFlow API, Airflow 3 imports).

Every task works on the partition of the run's logical date (`ds`), never on the wall clock,
and the extract step overwrites its partition, so retries and backfills are idempotent.
"""
from datetime import datetime, timedelta

from airflow.sdk import dag, task

import pipeline

FEATURES = "s3://ml-data/features"
MODELS = "s3://ml-models/churn"


@dag(
    dag_id="daily_retrain",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["ml", "churn"],
)
def daily_retrain():
    @task
    def extract(ds=None):
        pipeline.extract_partition(ds, f"{FEATURES}/{ds}/", mode="overwrite")

    @task
    def validate(ds=None):
        pipeline.validate_partition(ds, f"{FEATURES}/{ds}/")

    @task
    def train(ds=None):
        pipeline.train_model(ds, FEATURES, f"{MODELS}/{ds}/")

    @task
    def evaluate(ds=None):
        pipeline.evaluate_model(ds, f"{MODELS}/{ds}/", threshold=0.85)

    extract() >> validate() >> train() >> evaluate()


daily_retrain()
