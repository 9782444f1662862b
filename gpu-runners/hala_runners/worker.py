"""A Python Temporal worker for one GPU queue role.

    PYTHONPATH=gpu-runners python -m hala_runners.worker --queue-role infer \\
        [--task-queue hala-gpu-infer] [--profile NAME] [--address HOST:PORT] [--namespace NS] [--max-concurrent 1]

Serves only the activities whose queue_role in the contract is its role (the roles are those of the
contract's activity table; --help lists them), on the role's default task queue from the contract
unless --task-queue says otherwise. One activity at a time by default: one GPU.
Prints "hala worker ready queue=<q> namespace=<ns> activities=[...]" once polling, for launchers to wait on.
SIGTERM / SIGINT shut down gracefully: running stages are stopped (their process groups killed, the
retry resumes from the last heartbeat), engine processes are closed, then the worker exits.
Connection: as the `temporal` CLI does (connection.py): the flags, then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY (turns TLS on), TEMPORAL_TLS*, then the profile (--profile, TEMPORAL_PROFILE) of the TOML
file TEMPORAL_CONFIG_FILE names (default ~/.config/temporalio/temporal.toml); else 127.0.0.1:7233, "default".
HALA_METRICS_BIND (host:port) serves the SDK's Prometheus metrics at /metrics there.
HALA_BUILD_ID / HALA_DEPLOYMENT_NAME: the Worker Deployment version it joins (worker_build.py).
HALA_RUNNER_PRELOAD ("default" or a comma list of modules; the local stack sets it, images do not): a
fork server imports them once and runners and engines are forked from it (fork_server.py).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta

from . import connection, contract, fork_client, worker_build
from .activities import activities_for_role, runs_engines
from .activity_process import CANCEL_NOTICE_S
from .child_process import runner_env
from .engines import ENGINE_ENV
from .engines.service import EngineService


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hala_runners.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--queue-role", required=True, choices=contract.queue_roles())
    parser.add_argument("--task-queue", help="default: the role's queue in the contract (hala-gpu-<role>)")
    parser.add_argument("--profile", help="profile of the Temporal config file (default TEMPORAL_PROFILE, else \"default\")")
    parser.add_argument("--address", help="Temporal frontend host:port (default TEMPORAL_ADDRESS, else the profile's)")
    parser.add_argument("--namespace", help="Temporal namespace (default TEMPORAL_NAMESPACE, else the profile's)")
    parser.add_argument("--max-concurrent", type=int, default=1, help="activities at once (default 1: one GPU)")
    parser.add_argument("--connect-timeout-s", type=float, default=60.0,
                        help="keep retrying to reach the server this long before giving up")
    parser.add_argument("--graceful-shutdown-s", type=float, default=30.0,
                        help="how long running activities get to stop after SIGTERM")
    throttle = os.environ.get("HALA_HEARTBEAT_THROTTLE_S")
    parser.add_argument("--heartbeat-throttle-s", type=float, default=float(throttle) if throttle else CANCEL_NOTICE_S,
                        help="send heartbeats (progress in the UI, resume points) at most this often, which is also "
                             f"how soon a running stage hears of a cancel; default {CANCEL_NOTICE_S:g} s, not Temporal's "
                             "0.8 x the heartbeat timeout up to 60 s (env HALA_HEARTBEAT_THROTTLE_S)")
    args = parser.parse_args(argv)
    if args.max_concurrent < 1:
        parser.error(f"--max-concurrent must be >= 1 (got {args.max_concurrent})")
    return args


async def connect(args: argparse.Namespace):
    """Connect as the flags and the environment say, retrying for --connect-timeout-s."""
    from temporalio.converter import DataConverter

    from .payload_codec import data_converter_from_env

    try:
        config = connection.connect_config(profile=args.profile, address=args.address, namespace=args.namespace)
        # Same AES-256-GCM codec as the TypeScript side when HALA_CODEC_KEY is set: payloads encrypted in history.
        converter = data_converter_from_env() or DataConverter.default
        return await connection.connect(config, timeout_s=args.connect_timeout_s, data_converter=converter,
                                        runtime=metrics_runtime())
    except (connection.ConnectionConfigError, connection.Unreachable) as e:
        sys.stderr.write(f"hala worker: {e}\n")
        sys.stderr.flush()
        # Not SystemExit: the SDK's Rust runtime still holds callbacks from the failed attempts
        # and aborts the interpreter during finalization (exit 134) instead of exiting 1.
        os._exit(1)


def metrics_runtime():
    """A Temporal runtime that serves Prometheus metrics on HALA_METRICS_BIND, else None (the SDK's own).

    deploy/ scales each GPU pool on its queue's backlog, and keeps a pool from scaling down under a
    running stage with temporal_worker_task_slots_used{worker_type="ActivityWorker"}: the backlog
    no longer counts an activity once a worker has taken it."""
    bind = os.environ.get("HALA_METRICS_BIND")
    if not bind:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind)))


async def serve(args: argparse.Namespace) -> None:
    from temporalio.worker import Worker

    client = await connect(args)
    fork_server = start_fork_server(args.queue_role)
    queue = args.task_queue or contract.default_queue(args.queue_role)
    engines = EngineService()
    acts = activities_for_role(args.queue_role, engines)
    names = [a.__temporal_activity_definition.name for a in acts]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    launcher = asyncio.create_task(_stop_when_launcher_dies(stop))

    interval = timedelta(seconds=args.heartbeat_throttle_s)
    throttle = {"max_heartbeat_throttle_interval": interval, "default_heartbeat_throttle_interval": interval}
    build = worker_build.deployment_config()
    versioning = {"deployment_config": build} if build else {}
    worker = Worker(client, task_queue=queue, activities=acts, max_concurrent_activities=args.max_concurrent,
                    graceful_shutdown_timeout=timedelta(seconds=args.graceful_shutdown_s), **throttle, **versioning)
    try:
        async with worker:  # polls until the block exits, then shuts down (activities see it)
            version = f" build={build.version.deployment_name}:{build.version.build_id}" if build else ""
            print(f"hala worker ready queue={queue} namespace={client.namespace}{version} activities=[{','.join(names)}]", flush=True)
            await stop.wait()
            logging.info("hala worker: shutting down queue=%s", queue)
    finally:
        launcher.cancel()
        await engines.close()
        if fork_server is not None:  # after the activities: it SIGKILLs whatever it still runs
            fork_client.use(None)
            fork_server.stop()


def start_fork_server(role: str) -> fork_client.ForkServer | None:
    """The fork server runners and engines start from when HALA_RUNNER_PRELOAD is set; None if not (or
    it failed: they exec). Started with their environment (an engine's: ENGINE_ENV over the runners'):
    what it imports reads it once, and a process whose import-time variables differ execs."""
    preload = os.environ.get("HALA_RUNNER_PRELOAD")
    if not preload:
        return None
    env = {**runner_env(), **ENGINE_ENV} if runs_engines(role) else runner_env()
    try:
        server = fork_client.ForkServer.start(preload, env)
    except (OSError, RuntimeError) as e:
        logging.warning("hala worker: no fork server (%s); runners exec a fresh interpreter", e)
        return None
    fork_client.use(server)
    logging.info("hala worker: fork server %d preloads %s; runners fork from it", server.pid, preload)
    return server


async def _stop_when_launcher_dies(stop: asyncio.Event) -> None:
    """Started by a launcher that names itself in HALA_LAUNCHER_PID (`hala up`): if it is killed
    without stopping us (kill -9), shut down gracefully instead of serving on as an orphan."""
    launcher = os.environ.get("HALA_LAUNCHER_PID")
    if not launcher:
        return
    while os.getppid() == int(launcher):
        await asyncio.sleep(1.0)
    logging.info("hala worker: launcher %s is gone; shutting down", launcher)
    stop.set()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
