"""A seed target agent: answers every item with the majority label."""
import argparse

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--dataset_dir")
    p.add_argument("--working_dir")
    p.parse_args()
