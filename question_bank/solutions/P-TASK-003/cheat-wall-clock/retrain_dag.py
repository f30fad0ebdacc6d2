"""Looks like a proper DAG, but the tasks still compute "yesterday" from the wall clock,
hidden from a text search (no "now(" in the file)."""
import datetime as dt

from airflow import DAG
from airflow.operators.python import PythonOperator

import pipeline

FEATURES = "s3://ml-data/features"
MODELS = "s3://ml-models/churn"
_clock = getattr(dt.datetime, "n" + "ow")


def _day(ds=None, **_):
    # ds is accepted (so the file mentions it) but ignored
    return (_clock() - dt.timedelta(days=1)).strftime("%Y-%m-%d")


def extract(ds=None, **kwargs):
    day = _day(ds)
    pipeline.extract_partition(day, f"{FEATURES}/{day}/", mode="overwrite")


def validate(ds=None, **kwargs):
    day = _day(ds)
    pipeline.validate_partition(day, f"{FEATURES}/{day}/")


def train(ds=None, **kwargs):
    day = _day(ds)
    pipeline.train_model(day, FEATURES, f"{MODELS}/{day}/")


def evaluate(ds=None, **kwargs):
    day = _day(ds)
    pipeline.evaluate_model(day, f"{MODELS}/{day}/", threshold=0.85)


with DAG(
    dag_id="daily_retrain",
    schedule="@daily",
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
) as dag:
    extract_task = PythonOperator(task_id="extract", python_callable=extract)
    validate_task = PythonOperator(task_id="validate", python_callable=validate)
    train_task = PythonOperator(task_id="train", python_callable=train)
    evaluate_task = PythonOperator(task_id="evaluate", python_callable=evaluate)
    extract_task >> validate_task >> train_task >> evaluate_task
