import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer

import textsiam
from textsiam.errors import TextsiamError
from textsiam.training import TrainConfig, partial_dir, train

from .conftest import write_pairs

TINY_LSTM = {"embedding_dim": 16, "hidden_dim": 16}


def tiny_lstm_config(data: Path, output: Path, **overrides) -> TrainConfig:
    options = dict(data=str(data), output=str(output), tower="lstm", epochs=2, batch_size=16, seed=3,
                   dev_fraction=0.2, test_fraction=0.2, extra=TINY_LSTM)
    options.update(overrides)
    return TrainConfig(**options)


def test_lstm_train_saves_a_plain_sentence_transformer_with_metadata(pairs_csv: Path, tmp_path: Path):
    output = tmp_path / "model"
    model = train(tiny_lstm_config(pairs_csv, output))
    meta = json.loads((output / "textsiam.json").read_text())
    assert meta["tower"] == "lstm" and meta["loss"] == "cosent"  # the lstm's default (choices.TOWER_LOSSES)
    assert meta["threshold"] == model.threshold
    assert set(meta["split"]) == {"train", "dev", "test"}
    all_rows = sorted(meta["split"]["train"] + meta["split"]["dev"] + meta["split"]["test"])
    assert all_rows == list(range(60))
    test_metrics = meta["metrics"]["test"]
    assert test_metrics["n"] == len(meta["split"]["test"])
    assert (output / "report" / "metrics.json").exists() and (output / "report" / "curves.png").exists()
    assert not partial_dir(output).exists()
    # No lock-in: plain sentence-transformers loads and encodes it, with no textsiam code involved.
    plain = SentenceTransformer(str(output), trust_remote_code=False)
    assert plain.encode(["how do i learn python"]).shape == (1, 32)
    loaded = textsiam.load(output)
    scores = loaded.score(["how do i learn python"], ["how can i get good at python"])
    assert np.allclose(scores, model.score(["how do i learn python"], ["how can i get good at python"]), atol=1e-5)
    assert list(output.rglob("*.safetensors")) and not list(output.rglob("*.bin"))


@pytest.mark.parametrize("loss, distance", [("contrastive", "euclidean"), ("contrastive", "manhattan"),
                                            ("triplet", "cosine"), ("batch-hard-triplet", "euclidean"),
                                            ("cosine", "cosine"), ("in-batch-negatives", "cosine"),
                                            ("cosent", "cosine"), ("bce", "cosine"), ("bce", "euclidean")])
def test_every_loss_trains(pairs_csv: Path, tmp_path: Path, loss: str, distance: str):
    model = train(tiny_lstm_config(pairs_csv, tmp_path / "m", loss=loss, distance=distance, epochs=1))
    assert model.metadata["loss"] == loss
    assert model.encoder.similarity_fn_name == model.metadata["similarity"]
    test = model.metadata["metrics"]["test"]
    assert test["n"] == len(model.metadata["split"]["test"]) and np.isfinite(test["roc_auc"])
    assert set(model.metadata["calibration"]) == {"w", "b", "similarity", "distance"}


def test_threshold_metric_accuracy_is_chosen_on_dev_and_saved(pairs_csv: Path, tmp_path: Path):
    import pandas as pd

    from textsiam.metrics import choose_threshold

    model = train(tiny_lstm_config(pairs_csv, tmp_path / "m", epochs=1, threshold_metric="accuracy"))
    assert model.metadata["threshold_metric"] == "accuracy"
    dev = pd.read_csv(pairs_csv).iloc[model.metadata["split"]["dev"]]
    scores = model.score(dev["question1"].tolist(), dev["question2"].tolist())
    expected = choose_threshold(scores, dev["is_duplicate"].to_numpy(), "accuracy")
    assert model.threshold == pytest.approx(expected, abs=1e-5)
    with pytest.raises(TextsiamError, match="--threshold-metric"):
        tiny_lstm_config(pairs_csv, tmp_path / "n", threshold_metric="recall")


@pytest.mark.parametrize("duplicate_share", [0.5, 0.3])
def test_the_default_threshold_maximises_accuracy_on_a_balanced_dev_and_f1_otherwise(
        duplicate_share: float, tmp_path: Path):
    import pandas as pd

    from textsiam.metrics import choose_threshold

    rows = pd.read_csv(write_pairs(tmp_path / "all.csv", n_groups=12, seed=4))
    dev = pd.concat([rows[rows["is_duplicate"] == 1].head(round(20 * duplicate_share)),
                     rows[rows["is_duplicate"] == 0].head(round(20 * (1 - duplicate_share)))])
    dev.to_csv(tmp_path / "dev.csv", index=False)
    rows.drop(dev.index).to_csv(tmp_path / "train.csv", index=False)
    model = train(tiny_lstm_config(tmp_path / "train.csv", tmp_path / "m", epochs=1, dev=str(tmp_path / "dev.csv")))
    metric = "accuracy" if duplicate_share == 0.5 else "f1"
    assert model.metadata["threshold_metric"] == metric
    assert model.metadata["config"]["threshold_metric"] == "auto"
    scores = model.score(dev["question1"].tolist(), dev["question2"].tolist())
    assert model.threshold == pytest.approx(choose_threshold(scores, dev["is_duplicate"].to_numpy(), metric),
                                            abs=1e-5)


def test_bert_tower_learns(tiny_bert_dir: Path, tmp_path: Path):
    import pandas as pd
    from transformers import AutoTokenizer

    vocab = AutoTokenizer.from_pretrained(str(tiny_bert_dir)).get_vocab()
    topics = sorted(w for w in vocab if w.isalpha() and len(w) > 4)[:60]
    rows = [(f"how do i learn {t}", f"{t} tips for a beginner", 1) for t in topics]
    rows += [(f"how do i learn {t}", f"is {u} sold near me", 0) for t, u in zip(topics, topics[1:], strict=False)]
    data = tmp_path / "pairs.csv"
    pd.DataFrame(rows, columns=["text1", "text2", "label"]).to_csv(data, index=False)
    model = train(TrainConfig(data=str(data), output=str(tmp_path / "bert"), tower="bert", model=str(tiny_bert_dir),
                              epochs=3, batch_size=16, learning_rate=1e-3, seed=0, dev_fraction=0.2,
                              test_fraction=0.2, extra={"frozen_layers": 0, "freeze_embeddings": False}))
    assert model.metadata["tower"] == "bert"
    # A random 2-layer BERT (its embeddings and layers trainable) must learn in seconds that a shared topic word
    # means a duplicate.
    assert model.metadata["metrics"]["test"]["roc_auc"] > 0.6


def test_single_class_training_data_is_refused(tmp_path: Path):
    path = tmp_path / "ones.csv"
    path.write_text("text1,text2,label\n" + "".join(f"a{i},b{i},1\n" for i in range(30)))
    with pytest.raises(TextsiamError, match="only label 1"):
        train(tiny_lstm_config(path, tmp_path / "m"))


def test_dev_split_too_small_for_a_threshold(tmp_path: Path):
    path = tmp_path / "few.csv"
    path.write_text("text1,text2,label\n" + "".join(f"a{i},b{i},{i % 2}\n" for i in range(8)))
    with pytest.raises(TextsiamError, match="dev split"):
        train(tiny_lstm_config(path, tmp_path / "m", epochs=1))
    assert not (tmp_path / "m").exists()


def test_existing_output_is_refused_without_overwrite(pairs_csv: Path, tmp_path: Path):
    output = tmp_path / "m"
    output.mkdir()
    with pytest.raises(TextsiamError, match="--overwrite"):
        train(tiny_lstm_config(pairs_csv, output))


def test_positive_only_file_trains_with_in_batch_negatives(tmp_path: Path):
    topics = ["python", "java", "rice", "bread", "visa", "tea", "guitar", "chess", "swim", "dogs"]
    path = tmp_path / "title_body.csv"
    rows = [(f"learn {t} fast", f"what is the quickest way to get good at {t} as a beginner") for t in topics]
    rows += [(f"{t} tips", f"any advice on {t} for someone starting out") for t in topics]
    import pandas as pd

    pd.DataFrame(rows, columns=["title", "body"]).to_csv(path, index=False)
    model = train(tiny_lstm_config(path, tmp_path / "m", epochs=1, batch_size=4))
    assert model.metadata["loss"] == "in-batch-negatives"
    assert "sampled" in model.metadata["evaluation_negatives"]
    test = model.metadata["metrics"]["test"]
    assert test["n"] == 2 * len(model.metadata["split"]["test"])  # each positive plus one sampled negative
    with pytest.raises(TextsiamError, match="positive pairs only"):
        train(tiny_lstm_config(path, tmp_path / "m2", loss="contrastive"))


def test_lstm_with_a_teacher_learns_from_its_embeddings(pairs_csv: Path, tiny_bert_dir: Path, tmp_path: Path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    teacher_dir = tmp_path / "teacher"
    transformer = Transformer(str(tiny_bert_dir))
    SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension())]).save(str(teacher_dir))
    model = train(tiny_lstm_config(pairs_csv, tmp_path / "m", epochs=1, teacher=str(teacher_dir)))
    assert model.metadata["training"]["teacher_seconds"] > 0
    # The saved model is still just the lstm tower: the projection onto the teacher's space stays in the loss.
    assert SentenceTransformer(str(tmp_path / "m")).encode(["how do i learn python"]).shape == (1, 32)
    with pytest.raises(TextsiamError, match="--teacher works with --arch siamese only"):
        train(tiny_lstm_config(pairs_csv, tmp_path / "m2", arch="pseudo", teacher=str(teacher_dir)))


def test_the_default_lstm_starts_from_the_english_model_on_english_texts_only(tiny_bert_dir: Path, tmp_path: Path,
                                                                                 monkeypatch):
    from textsiam import hub

    monkeypatch.setattr(hub, "LSTM_START_MODEL", str(tiny_bert_dir))  # stands in for the installed MiniLM
    monkeypatch.setattr(hub, "minilm_installed", lambda: True)
    english = train(tiny_lstm_config(write_pairs(tmp_path / "en.csv"), tmp_path / "en", epochs=1))
    assert english.metadata["config"]["model"] == str(tiny_bert_dir)
    chinese = tmp_path / "zh.csv"
    topics = [chr(0x4E00 + 37 * i) + chr(0x4E10 + 53 * i) for i in range(60)]  # 60 two-character "words"
    rows = [(f"如何学习{t}", f"怎样学好{t}", 1) for t in topics[:30]]
    rows += [(f"如何学习{t}", f"哪里能买{u}", 0) for t, u in zip(topics[:30], topics[30:], strict=True)]
    pd.DataFrame(rows, columns=["question1", "question2", "is_duplicate"]).to_csv(chinese, index=False)
    assert train(tiny_lstm_config(chinese, tmp_path / "zh", epochs=1)).metadata["config"]["model"] is None
    scratch = train(tiny_lstm_config(tmp_path / "en.csv", tmp_path / "none", epochs=1, model="none"))
    assert scratch.metadata["config"]["model"] is None


def tiny_bert_config(data, output: Path, model_dir: Path, **overrides) -> TrainConfig:
    options = dict(data=str(data), output=str(output), tower="bert", model=str(model_dir), epochs=1, batch_size=16,
                   learning_rate=1e-3, seed=0)
    options.update(overrides)
    return TrainConfig(**options)


def test_model_carries_a_dev_fitted_probability_head(tiny_bert_dir: Path, tmp_path: Path):
    model = train(tiny_bert_config("sample", tmp_path / "m", tiny_bert_dir, epochs=2))
    meta = json.loads((tmp_path / "m" / "textsiam.json").read_text())
    assert meta["calibration"] == model.calibration and meta["calibration"]["w"] > 0
    assert {"brier", "ece"} <= set(meta["metrics"]["test"]) and {"roc_auc", "f1"} <= set(meta["metrics"]["dev"])
    loaded = textsiam.load(tmp_path / "m")
    scores = loaded.score(["how do i learn python"] * 2, ["what is the best way to learn python", "how to bake bread"])
    p = loaded.probabilities(scores)
    assert p.shape == (2,) and np.all((p > 0) & (p < 1)) and (p[0] > p[1]) == (scores[0] > scores[1])
    assert meta["training"]["best_checkpoint"]  # the trainer evaluated dev and kept its best checkpoint


def test_bce_loss_learns_its_head(pairs_csv: Path, tiny_bert_dir: Path):
    from textsiam.bce_loss import SiameseBCELoss
    from textsiam.losses import LossSpec, build_loss
    from textsiam.towers import build_encoder

    loss = build_loss(LossSpec("bce", "euclidean"), build_encoder("bert", model_name=str(tiny_bert_dir)))
    assert isinstance(loss, SiameseBCELoss) and {n for n, _ in loss.named_parameters()} >= {"w", "b"}


def write_split_file(path: Path, topics: list[str]) -> Path:
    rows = [(f"how do i learn {t}", f"what is the best way to learn {t}", 1) for t in topics]
    rows += [(f"how do i learn {t}", f"how do i cook {t}", 0) for t in topics]
    import pandas as pd

    pd.DataFrame(rows, columns=["sentence1", "sentence2", "label"]).to_csv(path, index=False)
    return path


def test_user_dev_and_test_files_replace_the_split(tiny_bert_dir: Path, tmp_path: Path, caplog):
    train_file = write_split_file(tmp_path / "train.csv", [f"topic{i}" for i in range(20)])
    dev_file = write_split_file(tmp_path / "dev.csv", ["chess", "guitar", "tennis", "topic0"])
    test_file = write_split_file(tmp_path / "test.csv", ["rust", "golang", "piano"])
    with caplog.at_level("WARNING", logger="textsiam"):
        model = train(tiny_bert_config(train_file, tmp_path / "m", tiny_bert_dir, dev=str(dev_file),
                                       test=str(test_file)))
    meta = model.metadata
    assert meta["split"]["train"] == list(range(40))  # --data is all train when both files are given
    assert meta["metrics"]["dev"]["n"] == 8 and meta["metrics"]["test"]["n"] == 6
    assert meta["data"]["dev"] == str(dev_file)
    assert "share 3 distinct text(s)" in caplog.text  # the three topic0 texts of dev are in train too


def test_only_a_dev_file_keeps_a_test_split_of_the_data(tiny_bert_dir: Path, tmp_path: Path):
    train_file = write_split_file(tmp_path / "train.csv", [f"topic{i}" for i in range(30)])
    dev_file = write_split_file(tmp_path / "dev.csv", ["chess", "guitar", "tennis"])
    model = train(tiny_bert_config(train_file, tmp_path / "m", tiny_bert_dir, dev=str(dev_file)))
    split = model.metadata["split"]
    assert split["dev"] == [] and len(split["test"]) > 0
    assert sorted(split["train"] + split["test"]) == list(range(60))


def test_warmup_is_a_ratio_of_the_trainers_own_steps(tiny_bert_dir: Path, tmp_path: Path):
    """Under DDP each process runs 1/N of the steps: a ratio stays right, a hand-computed count was N times long."""
    from textsiam.towers import build_encoder
    from textsiam.training import build_trainer, evaluation_pairs, load_splits, training_data

    config = tiny_bert_config("sample", tmp_path / "m", tiny_bert_dir)
    pairs = load_splits(config)
    encoder = build_encoder("bert", model_name=str(tiny_bert_dir))
    dataset, loss, _ = training_data(config, pairs[pairs["split"] == "train"], encoder)
    trainer = build_trainer(config, encoder, dataset, loss, evaluation_pairs(pairs, "dev", True, 0), tmp_path / "w")
    assert trainer.args.get_warmup_steps(200) == 20 and trainer.args.get_warmup_steps(100) == 10


def test_a_model_no_better_than_chance_is_flagged(tiny_bert_dir: Path, tmp_path: Path, caplog):
    import random

    rng = random.Random(0)
    path = tmp_path / "noise.csv"
    path.write_text("text1,text2,label\n" + "".join(f"w{rng.randint(0, 10**6)},v{rng.randint(0, 10**6)},{i % 2}\n"
                                                   for i in range(200)))
    with caplog.at_level("WARNING", logger="textsiam"):
        model = train(tiny_bert_config(path, tmp_path / "m", tiny_bert_dir))
    if model.metadata["metrics"]["dev"]["roc_auc"] < 0.55:
        assert "no better than chance on dev" in caplog.text
    else:  # random labels can look learnable on a small dev split by chance; then no warning is due
        assert "no better than chance" not in caplog.text


@pytest.mark.parametrize("loss", ["cosine", "cosent"])
def test_graded_scores_train_the_cosine_and_cosent_losses(loss: str, tiny_bert_dir: Path, tmp_path: Path):
    path = tmp_path / "sts.csv"
    rows = [f"how do i learn topic{i},what is the best way to learn topic{i},{4 + i % 2}" for i in range(30)]
    rows += [f"how do i learn topic{i},how do i cook topic{i},{i % 2}.5" for i in range(30)]
    path.write_text("sentence1,sentence2,score\n" + "\n".join(rows) + "\n")
    model = train(tiny_bert_config(path, tmp_path / "m", tiny_bert_dir, loss=loss, label="score"))
    assert model.metadata["loss"] == loss and model.metadata["metrics"]["test"]["n"] > 0
    with pytest.raises(TextsiamError, match="--loss cosine or --loss cosent"):  # other losses need 0/1 labels
        train(tiny_bert_config(path, tmp_path / "n", tiny_bert_dir, loss="online-contrastive", label="score"))


def test_model_directory_follows_the_users_umask(tiny_bert_dir: Path, tmp_path: Path):
    """safetensors writes weights 0600; a colleague must be able to read the model (umask 022 -> 0644)."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        train(tiny_bert_config("sample", tmp_path / "m", tiny_bert_dir, max_train_pairs=64))
    finally:
        os.umask(old)
    for path in [tmp_path / "m", *(tmp_path / "m").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), f"{path}: {oct(mode)}"


def test_chinese_and_cyrillic_pairs_train_evaluate_and_predict(tmp_path: Path):
    """No empty grouping keys, a real split, a vocabulary of characters, and every command on the result."""
    import pandas as pd
    from typer.testing import CliRunner

    from textsiam.cli import app

    topics = ["学习", "旅游", "手机", "电脑", "音乐", "足球", "做饭", "天气", "工作", "电影", "汽车", "医院"]
    russian = ["Python", "Москву", "гитару", "шахматы", "плавание", "рисование"]
    rows = [(f"如何{t}？", f"怎样才能{t}", 1) for t in topics] + [(f"如何{t}？", f"{t}多少钱", 0) for t in topics]
    rows += [(f"Как выучить {w}?", f"Как лучше изучить {w}?", 1) for w in russian]
    rows += [(f"Как выучить {w}?", f"Где купить {w}?", 0) for w in russian]
    data = tmp_path / "pairs.csv"
    pd.DataFrame(rows, columns=["sentence1", "sentence2", "label"]).to_csv(data, index=False)
    model = train(TrainConfig(data=str(data), output=str(tmp_path / "m"), tower="static", epochs=2, batch_size=8,
                              dev_fraction=0.25, test_fraction=0.25, seed=1))
    split = model.metadata["split"]
    assert min(len(split["train"]), len(split["dev"]), len(split["test"])) > 0
    runner = CliRunner()
    evaluated = runner.invoke(app, ["evaluate", str(tmp_path / "m"), "--data", str(data), "--output",
                                    str(tmp_path / "metrics.json")])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads((tmp_path / "metrics.json").read_text())["n"] == len(rows)
    predicted = runner.invoke(app, ["predict", str(tmp_path / "m"), str(data), "--output", str(tmp_path / "out.csv")])
    assert predicted.exit_code == 0, predicted.output
    scored = pd.read_csv(tmp_path / "out.csv")
    assert len(scored) == len(rows) and scored["probability"].between(0, 1).all()


def test_a_resumed_optimizer_loads_onto_the_indexed_cpu_device_torchrun_gives(tmp_path: Path):
    """Under torchrun on CPUs accelerate's device is cpu:0, the Trainer's map_location when it resumes."""
    import torch

    from textsiam.training import allow_indexed_cpu_location

    torch.save({"step": torch.arange(3)}, tmp_path / "optimizer.pt")
    allow_indexed_cpu_location()
    state = torch.load(tmp_path / "optimizer.pt", map_location=torch.device("cpu", 0), weights_only=True)
    assert state["step"].tolist() == [0, 1, 2] and state["step"].device.type == "cpu"
