"""GPU readings through NVML (the `nvidia-ml-py` package, imported as `pynvml`).

Only the GPUs this process can use are read: `CUDA_VISIBLE_DEVICES` (indices or `GPU-<uuid>`
prefixes, as CUDA parses them) narrows NVML's list of the host's devices. Metrics are named by
the device's NVML index (`gpu_3_utilization_percentage`), which is what nvidia-smi shows and
stays the same whichever process on the node reports it.

A reading a device does not support (power on some boards, clocks in a VM) is dropped for that
device after the first NVMLError, so an unsupported call is not retried every second.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_MB = 1e6


def visible_indices(count: int, uuids: Callable[[int], str], env: str | None) -> list[int]:
    """NVML indices of the devices CUDA_VISIBLE_DEVICES (`env`) leaves visible.

    CUDA reads the list up to the first entry it cannot resolve; so does this. Unset means
    every device; an empty value (or -1) none.
    """
    if env is None:
        return list(range(count))
    chosen: list[int] = []
    for raw in env.split(","):
        entry = raw.strip()
        if not entry:
            break
        if entry.lstrip("-").isdigit():
            index = int(entry)
            if index < 0 or index >= count:
                break
            found = index
        elif entry.startswith("GPU-"):
            matches = [i for i in range(count) if _uuid(uuids, i).startswith(entry)]
            if len(matches) != 1:
                break
            found = matches[0]
        else:  # MIG instances and anything else: not a whole device NVML can report on
            break
        if found in chosen:
            break
        chosen.append(found)
    return chosen


def _uuid(uuids: Callable[[int], str], index: int) -> str:
    try:
        value = uuids(index)
    except Exception:  # noqa: BLE001 - a device without a readable UUID matches nothing
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


class _Device:
    __slots__ = ("handle", "index", "unsupported")

    def __init__(self, index: int, handle: Any) -> None:
        self.index = index
        self.handle = handle
        self.unsupported: set[str] = set()


class GpuCollector:
    """Utilisation, memory used/total, power, temperature and clocks of each visible GPU."""

    def __init__(self, nvml: Any, indices: list[int]) -> None:
        self._nvml = nvml
        self._devices = [_Device(i, nvml.nvmlDeviceGetHandleByIndex(i)) for i in indices]

    @property
    def indices(self) -> list[int]:
        return [d.index for d in self._devices]

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for device in self._devices:
            self._read_device(device, out)
        return out

    def _read(self, device: _Device, what: str, fn: Callable[[], Any]) -> Any:
        if what in device.unsupported:
            return None
        try:
            return fn()
        except self._nvml.NVMLError:
            device.unsupported.add(what)
            return None

    def _read_device(self, device: _Device, out: dict[str, float]) -> None:
        nvml, h, p = self._nvml, device.handle, f"gpu_{device.index}_"
        util = self._read(device, "util", lambda: nvml.nvmlDeviceGetUtilizationRates(h))
        if util is not None:
            out[p + "utilization_percentage"] = float(util.gpu)
        memory = self._read(device, "memory", lambda: nvml.nvmlDeviceGetMemoryInfo(h))
        if memory is not None and memory.total:
            out[p + "memory_usage_megabytes"] = memory.used / _MB
            out[p + "memory_total_megabytes"] = memory.total / _MB
            out[p + "memory_usage_percentage"] = memory.used / memory.total * 100
        power = self._read(device, "power", lambda: nvml.nvmlDeviceGetPowerUsage(h))
        if power is not None:
            out[p + "power_usage_watts"] = power / 1000
            limit = self._read(device, "limit", lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(h))
            if limit:
                out[p + "power_usage_percentage"] = power / limit * 100
        temperature = self._read(
            device,
            "temperature",
            lambda: nvml.nvmlDeviceGetTemperature(h, nvml.NVML_TEMPERATURE_GPU),
        )
        if temperature is not None:
            out[p + "temperature_celsius"] = float(temperature)
        sm = self._read(
            device, "sm_clock", lambda: nvml.nvmlDeviceGetClockInfo(h, nvml.NVML_CLOCK_SM)
        )
        if sm is not None:
            out[p + "sm_clock_mhz"] = float(sm)
        mem_clock = self._read(
            device, "mem_clock", lambda: nvml.nvmlDeviceGetClockInfo(h, nvml.NVML_CLOCK_MEM)
        )
        if mem_clock is not None:
            out[p + "memory_clock_mhz"] = float(mem_clock)

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting NVML down is best effort
            pass


def gpu_collectors(note: Callable[..., None]) -> list[Any]:
    """A GpuCollector for the visible GPUs, or [] with one note saying why there is none."""
    try:
        import pynvml
    except ImportError:
        note(
            "nvidia-ml-py is not installed, so GPU metrics are not recorded; install it with "
            "`pip install 'flightlog[system]'`"
        )
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        # No NVIDIA driver (a CPU machine): nothing to report, and nothing wrong either.
        note(f"NVML could not start ({exc}), so GPU metrics are not recorded", quiet=True)
        return []
    try:
        count = pynvml.nvmlDeviceGetCount()
        indices = visible_indices(
            count,
            lambda i: pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetHandleByIndex(i)),
            os.environ.get("CUDA_VISIBLE_DEVICES"),
        )
        if not indices:
            pynvml.nvmlShutdown()
            return []
        return [GpuCollector(pynvml, indices)]
    except pynvml.NVMLError as exc:
        note(f"NVML could not list the GPUs ({exc}), so GPU metrics are not recorded")
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
        return []
