"""A tiny vendor used to test the core without any real vendor's rules.

``/sample/contacts`` creates contacts deduplicated on a lower-cased email (unique index),
``/sample/jobs`` queues an asynchronous import, ``/sample/hooks`` sends a webhook. Errors
have their own shape ``{"sample_error": ..., "code": ...}`` so tests can tell it from the
emulator's.
"""
from __future__ import annotations

from flask import Blueprint, request

from emulator.core.errors import VendorError
from emulator.core.journal import note
from emulator.core.store import Index
from emulator.core.vendor import VendorSpec
from emulator.http import bind_account, engine, json_object


class SampleError(VendorError):
    def body(self):
        return {"sample_error": self.message, "code": self.status}


def http_error(status, message, kind):
    return SampleError(f"{kind}: {message}", status)


class SampleBackend:
    def __init__(self, eng, account):
        self.engine, self.account = eng, account
        self.contacts = eng.store.collection("sample", account.name, "contacts")

    def upsert(self, payload: dict) -> tuple[dict, bool]:
        email = payload.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SampleError("email: required, must contain @", 400)
        if email != email.lower():
            note("email", email, email.lower(), "lower-cased", "cast")
        email = email.lower()
        with self.engine.store.transaction():
            found = self.contacts.find("email", email)
            if found is not None:
                self.contacts.update(found.doc_id, {"name": payload.get("name")})
                return self.contacts.get(found.doc_id), False
            doc = {"id": self.engine.ids.number(f"sample:{self.account.name}:contact"), "email": email,
                   "name": payload.get("name"), "created": self.engine.clock.now().isoformat()}
            self.contacts.insert(doc)
            return doc, True


def run_import(eng, job):
    backend = eng.backend("sample", job["account"])
    for payload in job["payload"]["contacts"]:
        backend.upsert(payload)
    jobs = eng.store.collection("sample", job["account"], "jobs")
    found = jobs.find("job_id", job["payload"]["job_id"])
    jobs.update(found.doc_id, {"status": "done"})


def authenticate():
    key = request.headers.get("X-Key")
    for name, acct in engine().accounts["sample"].items():
        if key and acct.credentials.get("key") == key:
            bind_account(name)
            return engine().backend("sample", name)
    raise SampleError("bad key", 401)


def blueprint():
    bp = Blueprint("sample", __name__)

    @bp.post("/contacts")
    def create():
        backend = authenticate()
        doc, created = backend.upsert(json_object())
        return doc, 201 if created else 200

    @bp.get("/contacts/<int:contact_id>")
    def show(contact_id):
        backend = authenticate()
        for _, doc in backend.contacts.scan():
            if doc["id"] == contact_id:
                return doc
        raise SampleError("contact not found", 404)

    @bp.post("/jobs")
    def queue():
        backend = authenticate()
        body = json_object()
        eng = engine()
        job_id = eng.ids.uuid("sample:job")
        eng.store.collection("sample", backend.account.name, "jobs").insert({"job_id": job_id, "status": "queued"})
        eng.jobs.enqueue("sample", backend.account.name, "sample.import",
                         {"job_id": job_id, "contacts": body.get("contacts", [])},
                         delay_s=backend.account.setting("processing_delay_s", 0))
        return {"job_id": job_id}, 202

    @bp.get("/jobs/<job_id>")
    def job(job_id):
        backend = authenticate()
        found = engine().store.collection("sample", backend.account.name, "jobs").find("job_id", job_id)
        if found is None:
            raise SampleError("no such job", 404)
        return dict(found)

    @bp.post("/hooks")
    def hook():
        backend = authenticate()
        body = json_object()
        delivery = engine().jobs.send_webhook("sample", backend.account.name, body["url"], {"hello": "world"},
                                              headers={"Authorization": "secret-signature"},
                                              retry_delays_s=[60, 120], success_statuses=[200],
                                              reject_statuses=[406])
        return {"delivery": delivery}, 202

    @bp.post("/notes")
    def notes():
        """Records the notes the body lists (``{"notes": [{field, sent, used, rule, kind}]}``), so
        tests of the lint can make notes of any field path and kind."""
        authenticate()
        for item in json_object().get("notes", []):
            note(item["field"], item.get("sent"), item.get("used"), item["rule"], item["kind"])
        return {"noted": True}

    @bp.get("/echo")
    def echo():
        authenticate()
        body = json_object(required=False)
        return {"body": body, "args": request.args.to_dict()}

    return bp


def load_account(backend, payloads):
    for payload in payloads:
        backend.upsert(payload)


def fake_contact(fake):
    return {"email": fake.unique.email(), "name": fake.name()}


def fake_bulk(fake, n=None, **options):
    return {"contacts": [fake_contact(fake) for _ in range(n or 3)], **options}


SAMPLE = VendorSpec(
    name="sample",
    title="Sample",
    hosts={"api.sample.test": "", "www.sample.test": "/api"},
    blueprint=blueprint,
    backend=SampleBackend,
    http_error=http_error,
    collections=("contacts", "jobs"),
    indexes={"contacts": {"email": Index(lambda d: d["email"])},
             "jobs": {"job_id": Index(lambda d: d["job_id"])}},
    default_settings={"processing_delay_s": 0},
    jobs={"sample.import": run_import},
    fake_contact=fake_contact,
    fake_payloads={"default": fake_bulk, "bulk": fake_bulk},
    load_account=load_account,
)


def sample_fixture(contacts: int = 3) -> dict:
    return {"vendors": {"sample": {"accounts": {
        "a": {"credentials": {"key": "key-a"}, "generate": {"contacts": contacts}},
        "b": {"credentials": {"key": "key-b"}, "settings": {"processing_delay_s": 30}},
    }}}}
