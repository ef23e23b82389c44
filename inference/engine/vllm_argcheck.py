"""Checks serving-profile command lines with vLLM's own code; runs only inside the vLLM venv, as
a script (``python vllm_argcheck.py RESULT.json < PROFILES.json``), never imported by the
application. For each profile node it parses the flags with the OpenAI server's real argument
parser, runs the server's own pre-launch checks, builds the engine arguments and the parallel
configuration, and checks the tool-call parser and the ``VLLM_*`` environment variables against
vLLM's registries. Problems are written to the result file, one list per profile node, so that
a renamed or removed vLLM flag fails a test instead of a deployment."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from typing import Any


def check_command(argv: list[str], env: dict[str, str], gpus_per_node: int) -> dict[str, Any]:
    """Problems with one server command line; an empty ``problems`` list means vLLM accepts it."""
    import vllm.envs
    from vllm.config import ParallelConfig
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.launchers.cli_args import make_arg_parser, validate_parsed_serve_args
    from vllm.tool_parsers import ToolParserManager
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    problems: list[str] = []
    parser = make_arg_parser(FlexibleArgumentParser(prog="vllm-api-server"))
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
    except SystemExit:
        # argparse reports unknown flags and bad choices on stderr, then exits
        return {"problems": [stderr.getvalue().strip().splitlines()[-1]], "gpus": None}

    try:
        validate_parsed_serve_args(args)
    except (TypeError, ValueError) as exc:
        problems.append(f"server rejects the flags: {exc}")

    parser_name = args.tool_call_parser
    if parser_name and parser_name not in ToolParserManager.list_registered():
        problems.append(f"unknown tool-call parser {parser_name!r}")

    for name in env:
        if name.startswith("VLLM_") and name not in vllm.envs.environment_variables:
            problems.append(f"vLLM does not read environment variable {name}")

    gpus: int | None = None
    try:
        engine_args = AsyncEngineArgs.from_cli_args(args)
        parallel = ParallelConfig(
            tensor_parallel_size=engine_args.tensor_parallel_size,
            pipeline_parallel_size=engine_args.pipeline_parallel_size,
            data_parallel_size=engine_args.data_parallel_size,
            data_parallel_size_local=(engine_args.data_parallel_size_local
                                      or engine_args.data_parallel_size),
            enable_expert_parallel=engine_args.enable_expert_parallel,
            is_moe_model=True,
        )
        gpus = parallel.world_size * parallel.data_parallel_size_local
        engine_args.create_structured_outputs_config()
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding being reported
        problems.append(f"engine arguments rejected: {type(exc).__name__}: {exc}")

    if gpus_per_node and gpus is not None and gpus != gpus_per_node:
        problems.append(f"flags place {gpus} GPU worker(s) on this node, the hardware has "
                        f"{gpus_per_node}")
    return {"problems": problems, "gpus": gpus}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("result", help="file to write the JSON result to")
    result_path = cli.parse_args().result
    requests = json.load(sys.stdin)
    results = {
        key: check_command(item["argv"], item["env"], item["gpus_per_node"])
        for key, item in requests.items()
    }
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
