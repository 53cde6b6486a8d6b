"""Edge maps of a folder of images, with JAX: ``python -m examples.pipelines.images --help``.

The pipeline (:func:`~examples.pipelines.images._pipeline.pipeline`)::

    walk(folder)                    the file names (rxasync.files)       name="list"
    map_on(decode, threads)         Pillow, on a thread pool             name="decode"
    keyed(map_batched(edges))       resize, normalise, Sobel: jitted     name="jax"
    map_on(write, threads)          PNG, temporary file + rename         name="write"

With ``--cluster`` only the JAX stage changes: ``map_on_cluster(edges_on_worker, client, ...)``.
"""

from ._pipeline import Options, Report, pipeline, run

__all__ = ["Options", "Report", "pipeline", "run"]
