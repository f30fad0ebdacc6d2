"""Nightly retraining DAG with classic operators (Airflow 3 import paths)."""
import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, chain

from pipeline import evaluate_model, extract_partition, train_model, validate_partition

FEATURES = "s3://ml-data/features"
MODELS = "s3://ml-models/churn"


def _extract(day):
    extract_partition(day, f"{FEATURES}/dt={day}/", mode="overwrite")


def _validate(day):
    validate_partition(day, f"{FEATURES}/dt={day}/")


def _train(**context):
    day = context["data_interval_start"].strftime("%Y-%m-%d")
    train_model(day, FEATURES, f"{MODELS}/{day}/")


def _evaluate(logical_date, **_):
    day = logical_date.to_date_string()
    evaluate_model(day, f"{MODELS}/{day}/", threshold=0.85)


with DAG(
    "daily_retrain",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"owner": "ml-platform", "retries": 3, "retry_delay": pendulum.duration(minutes=5)},
) as dag:
    extract_task = PythonOperator(task_id="extract", python_callable=_extract, op_kwargs={"day": "{{ ds }}"})
    validate_task = PythonOperator(task_id="validate", python_callable=_validate, op_args=["{{ ds }}"])
    train_task = PythonOperator(task_id="train", python_callable=_train)
    evaluate_task = PythonOperator(task_id="evaluate", python_callable=_evaluate)

    chain(extract_task, validate_task, train_task, evaluate_task)
