"""Label a Parquet dataset with Ray Data, one model per worker.

    pip install 'interference-clf[ray]'
    python examples/ray_label_parquet.py passages/ labelled/ --text-column text --workers 4

INPUT is a Parquet file or a folder of them (any path ``ray.data.read_parquet``
takes, cloud storage included); OUTPUT is a folder of Parquet files holding every
input column plus ``labels``, ``score_<label>`` and ``error``. Without a running
cluster Ray starts a local one; on a cluster, run this on the head node (or with
``ray job submit``) and the work spreads over its machines.
"""

from __future__ import annotations

import argparse

import ray

from interference_clf.integrations.ray import RayPredictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="Parquet file or folder")
    parser.add_argument("output", help="folder for the labelled Parquet files")
    parser.add_argument("--model", help="model folder, present on every worker (default: the shipped model)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--workers", type=int, default=1,
                        help="model copies working at once, a CPU each; leave the cluster a CPU for reading")
    parser.add_argument("--rows-per-batch", type=int, default=512, help="rows handed to a worker at a time")
    args = parser.parse_args()

    dataset = ray.data.read_parquet(args.input)
    labelled = dataset.map_batches(
        RayPredictor,
        fn_constructor_kwargs={"model_path": args.model, "text_column": args.text_column},
        compute=ray.data.ActorPoolStrategy(size=args.workers),
        batch_size=args.rows_per_batch,
        batch_format="pandas",
    )
    labelled.write_parquet(args.output)
    errors = ray.data.read_parquet(args.output).filter(lambda row: row["error"] is not None).count()
    print(f"labelled {args.input} into {args.output}; {errors} rows have an error field")


if __name__ == "__main__":
    main()
