"""Run under torchrun: the row indices each process trains on, per epoch, as `textsiam train` shards them.

Builds the trainer exactly as ``textsiam.training.train`` does (same config, splits, rows, sampler, accelerate
sharding) and walks its prepared train dataloader's batch sampler for two epochs. Arguments: data file, output
JSON, loss, bert model dir. Rank 0 writes ``{"rows": N, "epochs": [[indices of each process], ...]}``.
"""

import json
import sys
from pathlib import Path

import torch.distributed as dist

from textsiam.towers import build_encoder
from textsiam.training import build_trainer, evaluation_pairs, load_splits, partial_dir, training_data
from textsiam.training_args import TrainConfig


def main(data: str, out: str, loss: str, model: str) -> None:
    config = TrainConfig(data=data, output=str(Path(out).with_suffix("")), loss=loss, epochs=2, tower="bert",
                         model=model, batch_size=32)
    pairs = load_splits(config)
    train_pairs = pairs[pairs["split"] == "train"]
    encoder = build_encoder(config.tower, model_name=config.model)
    dataset, loss_fn, _ = training_data(config, train_pairs, encoder)
    dev = evaluation_pairs(pairs, "dev", True, config.seed)
    trainer = build_trainer(config, encoder, dataset, loss_fn, dev, partial_dir(config.output))
    loader = trainer.get_train_dataloader()
    epochs = []
    for epoch in range(2):
        loader.set_epoch(epoch)
        mine = [index for batch in loader.batch_sampler for index in batch]
        gathered = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, mine)
        epochs.append(gathered)
    if dist.get_rank() == 0:
        Path(out).write_text(json.dumps({"rows": len(dataset), "epochs": epochs}))
    dist.barrier()
    dist.destroy_process_group()  # else gloo's threads can abort the process at exit


if __name__ == "__main__":
    main(*sys.argv[1:5])
