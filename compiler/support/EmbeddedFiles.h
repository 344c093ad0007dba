// Files compiled into the binary (cmake/EmbedFiles.cmake): the runtime-c sources copied into every
// generated folder, the target descriptions of targets/ and the QEMU board support of
// targets/boards/, so an installed edgesplit needs no source tree.
#pragma once

#include <cstddef>
#include <string_view>

namespace edgesplit {

struct EmbeddedFile {
  std::string_view path; // relative to its folder: include/es_s8.h, cortex-m4.json, ...
  std::string_view text;
};

extern const EmbeddedFile kRuntimeSources[]; // runtime-c/
extern const size_t kRuntimeSourcesCount;
extern const EmbeddedFile kTargetFiles[]; // targets/*.json
extern const size_t kTargetFilesCount;
extern const EmbeddedFile kBoardFiles[]; // targets/boards/*
extern const size_t kBoardFilesCount;

} // namespace edgesplit
