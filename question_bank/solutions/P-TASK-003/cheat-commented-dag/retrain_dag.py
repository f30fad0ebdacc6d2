"""Legacy nightly retraining script, run by cron at 02:00 on a single VM.

The DAG is only described here (a regex over the text cannot tell):

# with DAG(dag_id="daily_retrain", schedule="@daily", catchup=False,
#          default_args={"retries": 2, "retry_delay": timedelta(minutes=5)}) as dag:
#     extract = PythonOperator(task_id="extract", op_kwargs={"ds": "{{ ds }}"}, ...)
#     pipeline.extract_partition(ds, f"{FEATURES}/{ds}/", mode="overwrite")
#     extract >> validate >> train >> evaluate
"""
import datetime

import pipeline

FEATURES = "s3://ml-data/features"
MODELS = "s3://ml-models/churn"


def main():
    day = (datetime.datetime.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    pipeline.extract_partition(day, f"{FEATURES}/{day}/")
    pipeline.validate_partition(day, f"{FEATURES}/{day}/")
    pipeline.train_model(day, FEATURES, f"{MODELS}/{day}/")
    pipeline.evaluate_model(day, f"{MODELS}/{day}/", threshold=0.85)


if __name__ == "__main__":
    main()
