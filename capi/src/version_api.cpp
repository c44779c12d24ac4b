// Version and status strings.
#include "rill/rill.h"

extern "C" {

uint32_t rill_version_number(void) { return RILL_VERSION_NUMBER; }

const char* rill_version_string(void) { return RILL_VERSION_STRING; }

const char* rill_status_string(rill_status status) {
    switch (status) {
    case RILL_OK: return "ok";
    case RILL_NONFINITE_REPLACED: return "non-finite input replaced by zero";
    case RILL_ERR_INVALID_ARGUMENT: return "invalid argument";
    case RILL_ERR_IO: return "i/o error";
    case RILL_ERR_FORMAT: return "malformed model file";
    case RILL_ERR_UNSUPPORTED: return "unsupported";
    case RILL_ERR_OUT_OF_MEMORY: return "out of memory";
    case RILL_ERR_BLOCK_TOO_LARGE: return "block larger than max_block_frames";
    case RILL_ERR_NONFINITE_INPUT: return "non-finite input rejected";
    case RILL_ERR_STATE_MISMATCH: return "state blob does not fit this stream";
    case RILL_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

} // extern "C"
