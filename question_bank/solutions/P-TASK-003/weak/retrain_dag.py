"""Nightly retraining DAG (first attempt, Airflow 2 style)."""
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

import pipeline

FEATURES = "s3://ml-data/features"
MODELS = "s3://ml-models/churn"


def extract(ds, **kwargs):
    pipeline.extract_partition(ds, f"{FEATURES}/{ds}/")


def validate(ds, **kwargs):
    pipeline.validate_partition(ds, f"{FEATURES}/{ds}/")


def train(ds, **kwargs):
    pipeline.train_model(ds, FEATURES, f"{MODELS}/{ds}/")


def evaluate(ds, **kwargs):
    pipeline.evaluate_model(ds, f"{MODELS}/{ds}/", threshold=0.85)


dag = DAG(
    dag_id="daily_retrain",
    schedule_interval="@daily",
    start_date=datetime(2024, 1, 1),
    default_args={"retries": 2},
)

extract_task = PythonOperator(task_id="extract", python_callable=extract, dag=dag)
validate_task = PythonOperator(task_id="validate", python_callable=validate, dag=dag)
train_task = PythonOperator(task_id="train", python_callable=train, dag=dag)
evaluate_task = PythonOperator(task_id="evaluate", python_callable=evaluate, dag=dag)

extract_task >> validate_task >> train_task >> evaluate_task
