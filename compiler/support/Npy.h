// NumPy .npy read/write and .npz read (little-endian, C order; float32/64, float16, bool and all
// 8-64 bit integer types).
#pragma once

#include "ir/Tensor.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace edgesplit {

Tensor readNpy(const std::filesystem::path &path);
Tensor parseNpy(const std::string &bytes, const std::string &context);
void writeNpy(const std::filesystem::path &path, const Tensor &tensor);
std::string serializeNpy(const Tensor &tensor);

// Arrays of an .npz archive in archive order, keyed by their name without ".npy".
std::vector<std::pair<std::string, Tensor>> readNpz(const std::filesystem::path &path);

// Output file stem for a model output name: characters outside [A-Za-z0-9._-] become '_'.
std::string sanitizeFileName(std::string_view name);

} // namespace edgesplit
