"""Fill the store from a fixture: accounts' fixed set-up, then Faker contacts from a seed.

Faker is imported only when some account asks for generated contacts, so an empty fixture
starts without paying for it. Each account gets its own Faker instance seeded with
``<seed>:<vendor>:<account>`` (``seed_instance``, never the global random), so adding an
account does not change another account's data.
"""
from __future__ import annotations


def faker_for(seed, vendor: str, account: str, locale: str | None = None):
    from faker import Faker

    fake = Faker(locale or "en_US")
    fake.seed_instance(f"{seed}:{vendor}:{account}")
    return fake


def populate(engine) -> None:
    for vendor, accounts in engine.accounts.items():
        spec = engine.vendors[vendor]
        for name, account in accounts.items():
            count = int(account.generate.get("contacts", 0) or 0)
            payloads: list[dict] = []
            if count and spec.fake_contact is not None:
                fake = faker_for(engine.seed, vendor, name, account.generate.get("locale"))
                payloads = [spec.fake_contact(fake) for _ in range(count)]
            if spec.load_account is not None:
                spec.load_account(engine.backend(vendor, name), payloads)
