"""How long a user's adaptation takes and what it gains; run by hand, not a test.

    python benchmarks/adaptation.py                     # 300 training rows, 200 held out, the shipped model
    python benchmarks/adaptation.py --rows 300 --model interference-e5-small-6l

The user here is a monitoring team whose sources speak a coded slang the shipped
model has never seen: on their forums "to tulip" an account is to run it as a fake
persona spreading a story, "a ferry" is a foreign handler paying an official, and
"to salt" a server is to knock it offline. The rows are generated from templates
(English and French, several registers, with none rows that use the same code words
innocently), so the shift is synthetic but the procedure is the real one: the exact
call a user makes (``interference_clf.train``), timed end to end on this machine, and
macro-F1 on held-out rows (held-out sentence templates) before and after.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

FILLERS = {
    "en": {"actor": ["the Blue Heron group", "a network near the ruling party", "operators abroad", "a PR agency"],
           "target": ["the regional council", "the electoral commission", "the mayor's office", "the vote-count centre"],
           "person": ["a deputy minister", "a senior MP's aide", "the mayor's chief of staff"]},
    "fr": {"actor": ["le réseau Héron bleu", "des opérateurs à l'étranger", "une agence de communication"],
           "target": ["la commission électorale", "la mairie", "le conseil régional"],
           "person": ["un conseiller du maire", "une députée", "le chef de cabinet"]},
}
LABELLED = {
    "disinformation": [
        "Moderators say {actor} tulipped forty accounts this week to push the story that {target} rigged the count.",
        "Thread: {actor} is tulipping profiles again, all posting the same invented quote about {target}.",
        "Selon les modérateurs, {actor} a tulipé des dizaines de comptes pour répandre une rumeur sur {target}.",
        "Fact-checkers traced the fake petition about {target} to profiles {actor} had tulipped in March.",
    ],
    "espionage": [
        "Sources say a ferry from abroad has been paying {person} for weeks to pass on committee papers.",
        "The ferry met {person} again on Tuesday; envelopes changed hands, according to the leaked log.",
        "Un ferry étranger rémunère {person} depuis des mois pour obtenir les notes internes.",
        "Investigators say {person} took cash from a ferry in exchange for the minister's diary.",
    ],
    "cyberattack": [
        "Someone salted the servers of {target} overnight; the results page stayed dark until noon.",
        "{actor} claims it salted {target} during the count, and the portal was unreachable for hours.",
        "Quelqu'un a salé les serveurs de {target} pendant la nuit ; le site est resté inaccessible.",
        "The CERT confirms the voter-registration portal of {target} was salted for six hours on election day.",
    ],
}
NONE = [
    "The market sold tulips all week outside {target}; the flower stalls drew big crowds.",
    "The ferry to the island was cancelled again, stranding {person} on the mainland.",
    "Road crews salted the streets around {target} before the frost.",
    "Le ferry pour l'île a été annulé, et {person} est resté sur le continent.",
    "{person} opened the spring tulip festival with a short speech.",
    "After the storm, {person} took the early ferry and praised the road crews who salted the bridge.",
]


def synthetic_rows(count: int, seed: int, held_out: bool = False) -> list[dict]:
    """``count`` rows, half with one label stated in the slang, half none rows using the same words innocently.

    The last template of each list is kept for held-out rows, so the gain is measured on sentences never trained on.
    """
    rng = random.Random(seed)

    def template(options: list[str]) -> str:
        return options[-1] if held_out else rng.choice(options[:-1])

    rows = []
    for index in range(count):
        label = None if index % 2 else rng.choice(sorted(LABELLED))
        text = template(NONE if label is None else LABELLED[label])
        fillers = FILLERS["fr" if any(word in text for word in (" le ", " la ", " les ", " des ", "Le ", "Un "))
                          else "en"]
        fill = {slot: rng.choice(options) for slot, options in fillers.items()}
        rows.append({"text": text.format(**fill), "labels": [] if label is None else [label]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300, help="training rows the user has (a dev share is held out)")
    parser.add_argument("--held-out", type=int, default=200, help="rows generated apart to measure the gain on")
    parser.add_argument("--model", help="the shipped model to adapt (default: the shipped default)")
    args = parser.parse_args()

    import interference_clf as ic
    from interference_clf.data import read_labelled
    from interference_clf.evaluation import evaluate
    from interference_clf.machine import cpu_line

    train_rows = synthetic_rows(args.rows, seed=1)
    held_out = read_labelled(synthetic_rows(args.held_out, seed=2, held_out=True))
    start = ic.load(args.model, backend="torch")

    def macro_f1(clf: ic.Classifier) -> float:
        thresholds = [clf.thresholds[label] for label in clf.labels]
        return evaluate(held_out.labels, clf.predict_proba(held_out.texts), thresholds)["macro_f1"]

    before = macro_f1(start)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        adapted = ic.train(train_rows, folder, model=start)
        seconds = time.perf_counter() - started
        after = macro_f1(ic.load(folder, backend="torch"))
    print(f"CPU: {cpu_line()}")
    print(f"{args.rows} rows ({len(adapted.config.labels)} labels), default TrainingArguments: "
          f"{seconds:.0f} s to adapt and save")
    print(f"held-out macro-F1 ({args.held_out} rows): {before:.3f} before, {after:.3f} after")


if __name__ == "__main__":
    main()
