import pytest

from .sample_vendor import SAMPLE, sample_fixture


@pytest.fixture
def sample_app(make_app):
    return make_app(vendors=[SAMPLE], fixture=sample_fixture())


@pytest.fixture
def sample(sample_app):
    return sample_app.test_client()


@pytest.fixture
def sample_engine(sample_app):
    return sample_app.extensions["emulator"]


KEY_A = {"X-Key": "key-a"}
KEY_B = {"X-Key": "key-b"}
