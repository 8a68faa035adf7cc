"""textsiam export: write an int8 ONNX export of a transformer tower into its model directory."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import DEVICE_OPTION, THREADS_OPTION, app, configure_runtime, run_command


@app.command("export")
def export_command(
    model: Path = typer.Argument(..., help="A textsiam model directory with a transformer (bert) tower."),
    int8: bool = typer.Option(False, "--int8", help="Write onnx/model_qint8.onnx: the tower with int8 weights "
                                                    "(onnxruntime); every command then encodes with it."),
    overwrite: bool = typer.Option(False, help="Replace an existing export."),
    threads: int = THREADS_OPTION,
    device: str = DEVICE_OPTION,
) -> None:
    """Export a model for faster CPU encoding (the model directory keeps its safetensors weights)."""
    configure_runtime(threads, device)
    from ..errors import TextsiamError
    from ..export import export_int8  # here, not at the top: --help must not wait for torch

    def run() -> Path:
        if not int8:
            raise TextsiamError("say what to export: --int8 (the only export so far).")
        return export_int8(model, overwrite=overwrite)

    typer.echo(f"int8 export -> {run_command(run)}")
