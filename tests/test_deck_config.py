"""getDeckConfig, saveDeckConfig, setDeckConfigId, cloneDeckConfigId and removeDeckConfigId, on a real collection."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dump import collection_dump
from note_helpers import add_direct, make_deck
from support import ApiClient, RunningServer

# A config as the README shows it: written for an Anki of 2017, without any of today's newer options.
README_CONFIG: dict[str, Any] = {
    "lapse": {"leechFails": 8, "delays": [10], "minInt": 1, "leechAction": 0, "mult": 0},
    "dyn": False,
    "autoplay": True,
    "mod": 1502970872,
    "id": 1,
    "maxTaken": 60,
    "new": {"bury": True, "order": 1, "initialFactor": 2500, "perDay": 20, "delays": [1, 10], "ints": [1, 4, 7]},
    "name": "Default",
    "rev": {"bury": True, "ivlFct": 1, "ease4": 1.3, "maxIvl": 36500, "perDay": 100, "minSpace": 1, "fuzz": 0.05},
    "timer": 0,
    "replayq": True,
    "usn": -1,
}


def stored_config(server: RunningServer, config_id: int) -> dict[str, Any] | None:
    """The stored options group with this id (None if there is none; Anki's get_config would give Default)."""
    configs = server.on_collection(lambda col: col.decks.all_config())
    return next((dict(conf) for conf in configs if conf["id"] == config_id), None)


def config_ids(server: RunningServer) -> list[int]:
    return sorted(int(conf["id"]) for conf in server.on_collection(lambda col: col.decks.all_config()))


def config_of_deck(server: RunningServer, deck_id: int) -> int:
    conf: int = server.on_collection(lambda col: int(col.decks.get_legacy(deck_id)["conf"]))
    return conf


def add_config(server: RunningServer, name: str, new_per_day: int = 20) -> int:
    """A new options group cloned from Default, with its own new-cards limit."""

    def add(col: Any) -> int:
        conf = col.decks.add_config(name, clone_from=col.decks.get_config(1))
        conf["new"]["perDay"] = new_per_day
        col.decks.update_config(conf)
        return int(conf["id"])

    result: int = server.on_collection(add)
    return result


def use_config(server: RunningServer, deck_id: int, config_id: int) -> None:
    def assign(col: Any) -> None:
        deck = col.decks.get_legacy(deck_id)
        deck["conf"] = config_id
        col.decks.update_dict(deck)

    server.on_collection(assign)


def make_filtered(server: RunningServer, name: str) -> int:
    """A filtered deck holding one new card."""
    add_direct(server, f"for {name}")

    def build(col: Any) -> int:
        from anki.decks import DeckId

        deck = col.sched.get_or_create_filtered_deck(DeckId(0))
        deck.name = name
        deck.config.search_terms[0].search = "deck:*"
        return int(col.sched.add_or_update_filtered_deck(deck).id)

    result: int = server.on_collection(build)
    return result


def unchanged_by(server: RunningServer, call: Callable[[], Any]) -> Any:
    """Run ``call`` and check that the collection is exactly as before; its result."""
    before = collection_dump(server)
    result = call()
    assert collection_dump(server) == before
    return result


# getDeckConfig


def test_get_deck_config_of_a_deck(client: ApiClient, server: RunningServer) -> None:
    config = unchanged_by(server, lambda: client.invoke("getDeckConfig", deck="Default"))
    assert config == stored_config(server, 1)
    assert config["id"] == 1 and config["name"] == "Default" and config["dyn"] is False
    assert {"new", "rev", "lapse", "maxTaken", "autoplay"} <= set(config)
    spanish = make_deck(server, "Lang::Spanish")
    custom = add_config(server, "Custom", new_per_day=7)
    use_config(server, spanish, custom)
    config = unchanged_by(server, lambda: client.invoke("getDeckConfig", deck="lang::spanish"))
    assert (config["id"], config["name"], config["new"]["perDay"]) == (custom, "Custom", 7)


def test_get_deck_config_of_a_filtered_deck_is_its_own_settings(client: ApiClient, server: RunningServer) -> None:
    cram = make_filtered(server, "Cram")
    config = unchanged_by(server, lambda: client.invoke("getDeckConfig", deck="Cram"))
    assert (config["id"], config["name"], config["dyn"]) == (cram, "Cram", 1)
    assert config["terms"][0][0] == "deck:*"


def test_get_deck_config_of_a_missing_deck_is_false(client: ApiClient, server: RunningServer) -> None:
    assert unchanged_by(server, lambda: client.invoke("getDeckConfig", deck="Nope")) is False
    missing = "AnkiConnect.getDeckConfig() missing 1 required positional argument: 'deck'"
    assert client.error("getDeckConfig") == missing


# saveDeckConfig


def test_save_deck_config_round_trip(client: ApiClient, server: RunningServer) -> None:
    """Anki stamps the saved group with a new mod and usn -1, so it syncs."""
    custom = add_config(server, "Custom")
    server.on_collection(lambda col: col.db.execute("update deck_config set mtime_secs = 1000, usn = 5"))
    started = int(time.time())
    config = client.invoke("getDeckConfig", deck="Default")
    config["new"]["perDay"] = 42
    config["maxTaken"] = 30
    assert client.invoke("saveDeckConfig", config=config) is True
    saved = stored_config(server, 1)
    assert saved is not None
    assert (saved["new"]["perDay"], saved["maxTaken"], saved["usn"]) == (42, 30, -1)
    assert saved["mod"] >= started
    assert {key: value for key, value in saved.items() if key not in ("mod", "usn")} == {
        key: value for key, value in config.items() if key not in ("mod", "usn")
    }
    untouched = stored_config(server, custom)
    assert untouched is not None and (untouched["mod"], untouched["usn"]) == (1000, 5)


def test_save_deck_config_keeps_options_the_config_leaves_out(client: ApiClient, server: RunningServer) -> None:
    """Upstream saves the README's old-format config as is, resetting every newer option to its default."""

    def tune(col: Any) -> None:
        conf = col.decks.get_config(1)
        conf["desiredRetention"] = 0.8
        conf["newMix"] = 2
        col.decks.update_config(conf)

    server.on_collection(tune)
    assert client.invoke("saveDeckConfig", config=README_CONFIG) is True
    saved = stored_config(server, 1)
    assert saved is not None
    assert (saved["desiredRetention"], saved["newMix"]) == (0.8, 2)
    assert (saved["rev"]["perDay"], saved["new"]["bury"], saved["lapse"]["leechAction"]) == (100, True, 0)
    assert saved["rev"]["hardFactor"] == 1.2  # a nested option the config leaves out
    # The id may be a string of digits, as upstream accepts.
    assert client.invoke("saveDeckConfig", config={"id": "1", "name": "Renamed"}) is True
    saved = stored_config(server, 1)
    assert saved is not None and saved["name"] == "Renamed" and saved["rev"]["perDay"] == 100


def test_save_deck_config_false_results(client: ApiClient, server: RunningServer) -> None:
    """False for an unknown id and for values Anki rejects; nothing is written either way."""
    unknown = {**README_CONFIG, "id": 123456789}
    assert unchanged_by(server, lambda: client.invoke("saveDeckConfig", config=unknown)) is False
    for rejected in ({"maxTaken": "long"}, {"autoplay": "yes"}, {"name": 5}):
        config = {**README_CONFIG, **rejected}
        assert unchanged_by(server, lambda: client.invoke("saveDeckConfig", config=config)) is False  # noqa: B023


def test_save_deck_config_errors(client: ApiClient, server: RunningServer) -> None:
    no_id = {key: value for key, value in README_CONFIG.items() if key != "id"}
    assert unchanged_by(server, lambda: client.error("saveDeckConfig", config=no_id)) == 'config has no "id" property'
    bad_id = {**README_CONFIG, "id": "Default"}
    error = unchanged_by(server, lambda: client.error("saveDeckConfig", config=bad_id))
    assert error == 'config property "id" must be an integer'
    wrong = "AnkiConnect.saveDeckConfig() argument 'config' must be an object, not a list"
    assert client.error("saveDeckConfig", config=[]) == wrong
    missing = "AnkiConnect.saveDeckConfig() missing 1 required positional argument: 'config'"
    assert client.error("saveDeckConfig") == missing


# setDeckConfigId


def test_set_deck_config_id(client: ApiClient, server: RunningServer) -> None:
    spanish, verbs = make_deck(server, "Spanish"), make_deck(server, "Lang::JP::Verbs")
    custom = add_config(server, "Custom")
    assert client.invoke("setDeckConfigId", decks=["Spanish", "lang::jp::verbs"], configId=custom) is True
    assert [config_of_deck(server, deck) for deck in (spanish, verbs, 1)] == [custom, custom, 1]
    assert client.invoke("getDeckConfig", deck="Spanish")["id"] == custom
    assert client.invoke("setDeckConfigId", decks=["Spanish"], configId="1") is True
    assert config_of_deck(server, spanish) == 1
    assert client.invoke("setDeckConfigId", decks=[], configId=1) is True


def test_set_deck_config_id_false_results_change_nothing(client: ApiClient, server: RunningServer) -> None:
    """False for a missing deck, a filtered deck, or (unlike upstream, D15) a missing group; no deck changes."""
    make_deck(server, "Spanish")
    make_filtered(server, "Cram")
    custom = add_config(server, "Custom")
    for decks, config_id in (
        (["Spanish", "Nope"], custom),
        (["Spanish", "Cram"], custom),
        (["Spanish"], 123456789),
    ):
        result = unchanged_by(server, lambda: client.invoke("setDeckConfigId", decks=decks, configId=config_id))  # noqa: B023
        assert result is False, (decks, config_id)
    missing = "AnkiConnect.setDeckConfigId() missing 1 required positional argument: 'configId'"
    assert client.error("setDeckConfigId", decks=["Spanish"]) == missing


# cloneDeckConfigId


def test_clone_deck_config_id(client: ApiClient, server: RunningServer) -> None:
    source = add_config(server, "Source", new_per_day=9)
    copy_of_default = client.invoke("cloneDeckConfigId", name="Copy of Default")
    copy_of_source = client.invoke("cloneDeckConfigId", name="Copy of Source", cloneFrom=source)
    copy_by_string = client.invoke("cloneDeckConfigId", name="By string", cloneFrom=str(source))
    assert config_ids(server) == sorted([1, source, copy_of_default, copy_of_source, copy_by_string])
    default, clone = stored_config(server, 1), stored_config(server, copy_of_default)
    assert default is not None and clone is not None
    assert clone["name"] == "Copy of Default" and clone["id"] == copy_of_default
    for key in ("id", "name", "mod", "usn"):
        del clone[key], default[key]
    assert clone == default
    source_clone = stored_config(server, copy_of_source)
    assert source_clone is not None and source_clone["new"]["perDay"] == 9


def test_clone_deck_config_id_from_a_missing_group_is_false(client: ApiClient, server: RunningServer) -> None:
    result = unchanged_by(server, lambda: client.invoke("cloneDeckConfigId", name="Copy", cloneFrom=123456789))
    assert result is False
    missing = "AnkiConnect.cloneDeckConfigId() missing 1 required positional argument: 'name'"
    assert client.error("cloneDeckConfigId") == missing


# removeDeckConfigId


def test_remove_deck_config_id(client: ApiClient, server: RunningServer) -> None:
    """The group's decks fall back to Default; other groups and decks are untouched."""
    spanish, german = make_deck(server, "Spanish"), make_deck(server, "German")
    custom, other = add_config(server, "Custom"), add_config(server, "Other")
    use_config(server, spanish, custom)
    use_config(server, german, other)
    assert client.invoke("removeDeckConfigId", configId=custom) is True
    assert config_ids(server) == sorted([1, other])
    assert (config_of_deck(server, spanish), config_of_deck(server, german)) == (1, other)
    assert client.invoke("removeDeckConfigId", configId=str(other)) is True
    assert config_ids(server) == [1]


def test_remove_deck_config_id_false_results_change_nothing(client: ApiClient, server: RunningServer) -> None:
    """False for a missing group, and (unlike upstream, which lets Anki's error through, D15) for Default."""
    assert unchanged_by(server, lambda: client.invoke("removeDeckConfigId", configId=123456789)) is False
    assert unchanged_by(server, lambda: client.invoke("removeDeckConfigId", configId=1)) is False
    missing = "AnkiConnect.removeDeckConfigId() missing 1 required positional argument: 'configId'"
    assert client.error("removeDeckConfigId") == missing
