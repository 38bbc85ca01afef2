"""moto's ``mock_aws`` with one DynamoDB put_item per test (a bench extra: ``pip install '.[bench]'``)."""
import os

import pytest

TESTS = int(os.environ.get("BENCH_PERTEST_TESTS", "300"))

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")


@pytest.fixture
def table(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
    with moto.mock_aws():
        db = boto3.resource("dynamodb")
        yield db.create_table(TableName="contacts", KeySchema=[{"AttributeName": "phone", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "phone", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")


@pytest.mark.parametrize("i", range(TESTS))
def test_one_put(table, i):
    table.put_item(Item={"phone": f"+336{i:08d}", "first_name": "Ann"})
