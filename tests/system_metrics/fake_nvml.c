/* A stand-in for libnvidia-ml.so.1: the NVML calls flightlog's GPU collector makes, answering
 * for FAKE_NVML_DEVICES devices (default 3) with values derived from the device index, so the
 * real pynvml can be exercised on a machine without an NVIDIA driver.
 * Device 2 answers NVML_ERROR_NOT_SUPPORTED for power, as some boards do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3

typedef struct { unsigned int gpu; unsigned int memory; } nvmlUtilization_t;
typedef struct { unsigned long long total; unsigned long long free; unsigned long long used; } nvmlMemory_t;
typedef struct { int index; } fake_device;
typedef fake_device *nvmlDevice_t;

static fake_device devices[16];
static int initialized = 0;

static unsigned int device_count(void) {
    const char *env = getenv("FAKE_NVML_DEVICES");
    int n = env ? atoi(env) : 3;
    if (n < 0) n = 0;
    if (n > 16) n = 16;
    return (unsigned int)n;
}

static int valid(nvmlDevice_t d) {
    return initialized && d != NULL && d >= devices && d < devices + device_count();
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    for (int i = 0; i < 16; i++) devices[i].index = i;
    initialized = 1;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
nvmlReturn_t nvmlInit(void) { return nvmlInitWithFlags(0); }
nvmlReturn_t nvmlShutdown(void) { initialized = 0; return NVML_SUCCESS; }

const char *nvmlErrorString(nvmlReturn_t result) {
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    *count = device_count();
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) { return nvmlDeviceGetCount_v2(count); }

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    if (index >= device_count()) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &devices[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(uuid, length, "GPU-%08d-fake-4000-8000-%012d", d->index, d->index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(name, length, "Fake GPU %d", d->index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    u->gpu = 10 + 20 * (unsigned int)d->index;
    u->memory = 5 + (unsigned int)d->index;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    m->total = 16000000000ULL;
    m->used = 1000000000ULL * (unsigned long long)(d->index + 1);
    m->free = m->total - m->used;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *milliwatts) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->index == 2) return NVML_ERROR_NOT_SUPPORTED;
    *milliwatts = 100000 + 1000 * (unsigned int)d->index;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *milliwatts) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    *milliwatts = 400000;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *celsius) {
    if (!valid(d) || sensor != 0) return NVML_ERROR_INVALID_ARGUMENT;
    *celsius = 40 + (unsigned int)d->index;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
    if (!valid(d)) return NVML_ERROR_INVALID_ARGUMENT;
    if (type == 1) *mhz = 1400 + (unsigned int)d->index;      /* NVML_CLOCK_SM */
    else if (type == 2) *mhz = 5000 + (unsigned int)d->index; /* NVML_CLOCK_MEM */
    else if (type == 0) *mhz = 1300 + (unsigned int)d->index; /* NVML_CLOCK_GRAPHICS */
    else return NVML_ERROR_INVALID_ARGUMENT;
    return NVML_SUCCESS;
}
