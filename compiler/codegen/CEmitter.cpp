#include "codegen/CEmitter.h"

#include "support/EmbeddedFiles.h"
#include "support/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

namespace edgesplit {

std::string devicePrefix(const std::string &device) {
  std::string prefix;
  for (char c : device)
    prefix += std::isalnum(static_cast<unsigned char>(c))
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                  : '_';
  if (prefix.empty() || std::isdigit(static_cast<unsigned char>(prefix[0]))) prefix = "d" + prefix;
  return prefix + "_";
}

std::string upperCase(std::string text) {
  for (char &c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string macroName(const std::string &name) {
  std::string result;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (ok) result += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    else if (!result.empty() && result.back() != '_') result += '_';
  }
  while (!result.empty() && result.back() == '_') result.pop_back();
  return result.empty() ? "T" : result;
}

std::string commentSafe(std::string text) {
  for (size_t pos; (pos = text.find("*/")) != std::string::npos;) text.replace(pos, 2, "* /");
  return text;
}

namespace {

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

const EmbeddedFile *runtimeFile(std::string_view path) {
  for (size_t i = 0; i < kRuntimeSourcesCount; ++i)
    if (kRuntimeSources[i].path == path) return &kRuntimeSources[i];
  return nullptr;
}

// The runtime .c file defining `function` (a definition starts at column 0: "type name(...) {"),
// if any.
std::optional<std::string_view> sourceDefining(std::string_view function) {
  const std::string needle = " " + std::string(function) + "(";
  for (size_t i = 0; i < kRuntimeSourcesCount; ++i) {
    const EmbeddedFile &file = kRuntimeSources[i];
    if (file.path.substr(0, 4) != "src/") continue;
    const std::string_view text = file.text;
    for (size_t at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
      const size_t lineStart = text.rfind('\n', at) + 1; // npos + 1 == 0
      const char first = text[lineStart];
      if (first == ' ' || first == '\t' || first == '#' || first == '/' || first == '*') continue;
      const size_t end = text.find_first_of(";{", at);
      if (end != std::string_view::npos && text[end] == '{') return file.path;
    }
  }
  return std::nullopt;
}

// The runtime functions `text` (C source) calls: `es_name(` inside a function body or a macro
// definition. A declaration at file scope (or in an `extern "C"` block) is no call: a header
// declares every kernel of its precision, and reading its prototypes as calls bundled every
// kernel with every model.
std::set<std::string> runtimeCallsIn(std::string_view text) {
  std::set<std::string> calls;
  int depth = 0;              // of the braces that open a body, not an extern "C" block
  std::vector<bool> braces;   // per open brace: whether it counts in `depth`
  bool define = false;        // on a #define line (continued by backslashes)
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (text.substr(pos, 2) == "/*") {
      pos = std::min(text.find("*/", pos + 2), text.size()) + 1;
    } else if (text.substr(pos, 2) == "//") {
      pos = std::min(text.find('\n', pos), text.size()) - 1;
    } else if (c == '"' || c == '\'') {
      for (++pos; pos < text.size() && text[pos] != c; ++pos)
        if (text[pos] == '\\') ++pos;
    } else if (c == '{') {
      const std::string_view before = text.substr(0, text.find_last_not_of(" \t\n", pos - 1) + 1);
      braces.push_back(!before.ends_with("extern \"C\""));
      depth += braces.back();
    } else if (c == '}') {
      if (!braces.empty()) {
        depth -= braces.back();
        braces.pop_back();
      }
    } else if (c == '\n') {
      define = define && pos > 0 && text[pos - 1] == '\\';
    } else if (c == '#' && text.substr(pos, 7) == "#define") {
      define = true;
    } else if (text.substr(pos, 3) == "es_" &&
               (pos == 0 || !(std::isalnum(static_cast<unsigned char>(text[pos - 1])) ||
                              text[pos - 1] == '_'))) {
      size_t end = pos;
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                   text[end] == '_'))
        ++end;
      if (end < text.size() && text[end] == '(' && (depth > 0 || define))
        calls.emplace(text.substr(pos, end - pos));
      pos = end - 1;
    }
  }
  return calls;
}

// The runtime files `files` need: the headers they include and the sources defining the
// runtime functions they call (a kernel may build on another, e.g. global pooling on the mean).
std::set<std::string> withDependencies(std::set<std::string> files) {
  std::vector<std::string> pending(files.begin(), files.end());
  auto add = [&](const std::string &path) {
    if (files.insert(path).second) pending.push_back(path);
  };
  while (!pending.empty()) {
    const std::string path = pending.back();
    pending.pop_back();
    const EmbeddedFile *file = runtimeFile(path);
    if (!file) fail("internal error: runtime-c file {} is not embedded", path);
    const std::string_view text = file->text;
    for (size_t pos = 0; (pos = text.find("#include \"", pos)) != std::string_view::npos;) {
      pos += 10;
      const std::string name(text.substr(pos, text.find('"', pos) - pos));
      for (const std::string dir : {"include/", "src/"})
        if (runtimeFile(dir + name)) add(dir + name);
    }
    for (const std::string &function : runtimeCallsIn(text))
      if (auto source = sourceDefining(function)) add(std::string(*source));
  }
  return files;
}

class DeviceWriter {
public:
  DeviceWriter(const Program &program, const MemoryPlan &plan, const EmitOptions &options)
      : program_(program), plan_(plan), options_(options), p_(devicePrefix(options.device)),
        P_(upperCase(p_)), int8_(program.precision == Precision::Int8),
        element_(int8_ ? "int8_t" : "float") {}

  SourceFiles write() {
    SourceFiles files;
    files["model.h"] = header();
    files["model.c"] = model();
    files["weights.c"] = weights();
    std::set<std::string> runtime = {"src/common.c"};
    auto addDefining = [&](const std::string &function) {
      auto source = sourceDefining(function);
      if (!source) fail("internal error: no runtime-c source defines {}", function);
      runtime.insert(std::string(*source));
    };
    for (const KernelCall &call : program_.calls)
      if (!call.isCopy) addDefining(call.function);
    for (const std::string &function : options_.extraRuntimeFunctions) addDefining(function);
    for (const auto &[path, text] : options_.extraFiles) files[path] = text;
    runtime.insert(int8_ ? "include/es_s8.h" : "include/es_f32.h");
    runtime = withDependencies(std::move(runtime));
    std::vector<std::string> sources;
    for (const std::string &path : runtime) {
      files["runtime/" + path] =
          path == kRoundingHeader ? roundingHeader() : std::string(runtimeFile(path)->text);
      if (path.size() > 2 && path.substr(path.size() - 2) == ".c") sources.push_back(path);
    }
    files["CMakeLists.txt"] = cmake(sources);
    files["model.mk"] = makefile(sources);
    return files;
  }

private:
  static constexpr std::string_view kRoundingHeader = "src/s8_rounding.h";

  // runtime-c's s8_rounding.h with the build's rescaling rule fixed, so that the kernels compile
  // that rule's code alone (a compile-time constant, no run-time choice).
  std::string roundingHeader() const {
    const bool single = program_.rounding == S8Rounding::Single;
    return banner("Rescaling rule of the int8 kernels") +
           fmt::format("#ifndef ES_S8_ROUNDING_H\n#define ES_S8_ROUNDING_H\n\n"
                       "/* {} (docs/int8.md \"Fixed-point rescaling\"). */\n"
                       "#define ES_S8_SINGLE_ROUNDING {}\n\n#endif\n",
                       single ? "Single rounding of acc * multiplier / 2^(31 - shift), as "
                                "onnxruntime requantises"
                              : "Double rounding, as TFLite and CMSIS-NN requantise",
                       single ? 1 : 0);
  }

  std::string banner(std::string_view what) const {
    return fmt::format("/* {} of device '{}' (target {}, {}), generated by edgesplit {}.\n"
                       " * Do not edit: regenerate with `edgesplit compile`. */\n",
                       what, commentSafe(options_.device), options_.target,
                       precisionName(program_.precision), options_.version);
  }

  int64_t arenaBytes() const { return std::max<int64_t>(plan_.arenaBytes, 8); }

  std::string pointer(const Value *value) const {
    auto slot = plan_.values.find(value);
    if (slot == plan_.values.end())
      fail("internal error: '{}' has no arena slot", value->name);
    const int64_t offset = slot->second.offset / elementBytes(program_.precision);
    return fmt::format("({}arena + {})", p_, offset);
  }

  std::string scratchPointer(const Node *node) const {
    auto slot = plan_.scratch.find(node);
    if (slot == plan_.scratch.end()) fail("internal error: '{}' has no scratch slot", node->name);
    return fmt::format("({}arena + {})", p_,
                       slot->second.offset / elementBytes(program_.precision));
  }

  std::string header() const {
    std::string out = banner("API");
    const std::string guard = P_ + "MODEL_H";
    out += fmt::format("#ifndef {0}\n#define {0}\n\n#include <stdint.h>\n\n", guard);
    out += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
    out += fmt::format(
        "/* Usage: call {p}init() once; write each input with {p}set_input_f32() (or the\n"
        " * {elem} elements of {p}input() directly); call {p}run(); read each output with\n"
        " * {p}get_output_f32() (or {p}output()). Inputs and outputs live in the static arena:\n"
        " * {p}run() may overwrite the inputs. No function allocates memory. */\n\n",
        fmt::arg("p", p_), fmt::arg("elem", element_));
    out += fmt::format("#define {}INPUT_COUNT {}\n", P_, program_.inputs.size());
    out += fmt::format("#define {}OUTPUT_COUNT {}\n", P_, program_.outputs.size());
    out += fmt::format("#define {}ARENA_BYTES {}\n\n", P_, arenaBytes());
    for (size_t i = 0; i < program_.inputs.size(); ++i)
      out += fmt::format("#define {}INPUT_{} {} /* '{}' {} */\n", P_,
                         macroName(program_.inputs[i].name), i,
                         commentSafe(program_.inputs[i].name), shapeText(program_.inputs[i].shape));
    for (size_t i = 0; i < program_.outputs.size(); ++i)
      out += fmt::format("#define {}OUTPUT_{} {} /* '{}' {} */\n", P_,
                         macroName(program_.outputs[i].name), i,
                         commentSafe(program_.outputs[i].name),
                         shapeText(program_.outputs[i].shape));
    out += fmt::format("\ntypedef {} {}element_t;\n\n", element_, p_);
    out += fmt::format("/* Clears the arena. */\nvoid {}init(void);\n", p_);
    out += fmt::format("/* Runs the model once on the inputs in the arena. */\nvoid {}run(void);\n",
                       p_);
    if (!options_.callMasks.empty())
      out += fmt::format("/* Runs only what the heads in the mask (bit h: head h) need. */\n"
                         "void {}run_heads(uint32_t heads);\n",
                         p_);
    out += fmt::format("/* Input/output buffers and their element counts; NULL and 0 for an index "
                       "out of range. */\n{0}element_t *{0}input(int index);\n"
                       "const {0}element_t *{0}output(int index);\n"
                       "int32_t {0}input_size(int index);\nint32_t {0}output_size(int index);\n",
                       p_);
    if (int8_)
      out += fmt::format(
          "/* int8 parameters: real = scale * (q - zero_point). */\n"
          "float {0}input_scale(int index);\nint32_t {0}input_zero_point(int index);\n"
          "float {0}output_scale(int index);\nint32_t {0}output_zero_point(int index);\n",
          p_);
    out += fmt::format(
        "/* float32 convenience: {0}input_size(index) values, {1}. */\n"
        "void {0}set_input_f32(int index, const float *values);\n"
        "void {0}get_output_f32(int index, float *values);\n",
        p_, int8_ ? "quantised / dequantised per docs/int8.md" : "copied");
    out += "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
    return out;
  }

  std::string portTable(const char *what, const std::vector<ProgramPort> &ports) const {
    std::vector<std::string> pointers, sizes, scales, zeroPoints;
    for (const ProgramPort &port : ports) {
      pointers.push_back(pointer(port.value));
      sizes.push_back(std::to_string(numElements(port.shape)));
      scales.push_back(cLiteral(port.scale));
      zeroPoints.push_back(std::to_string(port.zeroPoint));
    }
    if (ports.empty()) pointers = sizes = scales = zeroPoints = {"0"};
    std::string out;
    out += fmt::format("static {}element_t *const {}{}s[] = {{{}}};\n", p_, p_, what,
                       fmt::join(pointers, ", "));
    out += fmt::format("static const int32_t {}{}_sizes[] = {{{}}};\n", p_, what,
                       fmt::join(sizes, ", "));
    if (int8_) {
      out += fmt::format("static const float {}{}_scales[] = {{{}}};\n", p_, what,
                         fmt::join(scales, ", "));
      out += fmt::format("static const int32_t {}{}_zero_points[] = {{{}}};\n", p_, what,
                         fmt::join(zeroPoints, ", "));
    }
    return out;
  }

  std::string model() const {
    std::string out = banner("Model");
    out += "#include \"model.h\"\n\n";
    out += int8_ ? "#include \"es_s8.h\"\n" : "#include \"es_f32.h\"\n";
    bool needsMath = false;
    for (const KernelCall &call : program_.calls)
      if (call.params && call.params->init.usesMath()) needsMath = true;
    out += "\n#include <stddef.h>\n";
    if (needsMath) out += "#include <math.h>\n";
    out += "#include <string.h>\n";
    if (options_.callMasks.empty())
      out += "\n#if defined(ES_BOARD) && defined(ES_LAYER_MARKS)\n#include \"board.h\"\n"
             "#define ES_LAYER_MARK() ES_MARK()\n#else\n#define ES_LAYER_MARK() ((void)0)\n"
             "#endif\n";
    out += fmt::format("\n/* Every activation, placed by the static memory planner: {} bytes "
                       "(lower bound {} bytes). */\n",
                       plan_.arenaBytes, plan_.lowerBoundBytes);
    out += fmt::format("static {} {}arena[{}];\n\n", element_, p_,
                       arenaBytes() / elementBytes(program_.precision));
    if (!program_.constants.empty()) {
      out += "/* weights.c */\n";
      for (const ConstantArray &array : program_.constants)
        out += fmt::format("extern const {} {}{}[{}];\n", array.elementType, p_, array.symbol,
                           array.count);
      out += "\n";
    }
    std::string body;
    const bool masked = !options_.callMasks.empty();
    if (masked && options_.callMasks.size() != program_.calls.size())
      fail("internal error: {} call masks for {} calls", options_.callMasks.size(),
           program_.calls.size());
    // Between the layers of a single-device program, a marker that `edgesplit run --qemu
    // --per-layer` turns into the board's instruction-count marker; nothing otherwise. None
    // after the last layer (the driver's marks the end of the inference): the run function
    // keeps its tail call to the last kernel, so the measured program's stack is the deployed
    // one's.
    const std::string layerMark = masked ? "" : "  ES_LAYER_MARK();\n";
    const size_t calls = program_.calls.size();
    for (size_t k = 0; k < calls; ++k, body += k < calls ? layerMark : "") {
      const KernelCall &call = program_.calls[k];
      std::vector<std::string> outputs;
      for (const Value *value : call.node->outputs)
        if (value) outputs.push_back(fmt::format("'{}' {}", value->name, shapeText(*value->shape)));
      body += fmt::format("  /* {} -> {} */\n", commentSafe(call.node->describe()),
                          commentSafe(fmt::format("{}", fmt::join(outputs, ", "))));
      if (call.isCopy) {
        const Value *from = call.args[0].value, *to = call.args[1].value;
        if (slotOf(from) == slotOf(to)) {
          body += "  /* a view: shares its input's bytes */\n";
        } else {
          body += fmt::format("  {}memcpy({}, {}, {});\n",
                              masked ? fmt::format("if (heads & 0x{:x}u) ", options_.callMasks[k])
                                     : "",
                              pointer(to), pointer(from), plan_.values.find(to)->second.bytes);
        }
        continue;
      }
      std::vector<std::string> args;
      std::string locals;
      for (const KernelArg &arg : call.args) {
        switch (arg.kind) {
        case KernelArg::Kind::Params: {
          const std::string name = fmt::format("{}params_{}", p_, k);
          // Pointer fields name constants as "@symbol"; here they get the device prefix.
          std::string init = call.params->init.str();
          for (size_t at; (at = init.find('@')) != std::string::npos;) init.replace(at, 1, p_);
          out += fmt::format("static const {} {} = {};\n", call.params->type, name, init);
          args.push_back("&" + name);
          break;
        }
        case KernelArg::Kind::Constant:
          args.push_back(p_ + program_.constant(arg.constant).symbol);
          break;
        case KernelArg::Kind::Input:
        case KernelArg::Kind::Output: args.push_back(pointer(arg.value)); break;
        case KernelArg::Kind::InputList: {
          std::vector<std::string> pointers;
          for (size_t e = 0; e < arg.values.size(); ++e)
            pointers.push_back(arg.values[e]
                                   ? pointer(arg.values[e])
                                   : p_ + program_.constant(arg.listConstants[e]).symbol);
          const std::string name = fmt::format("inputs_{}", k);
          locals += fmt::format("    const {} *const {}[] = {{{}}};\n", element_, name,
                                fmt::join(pointers, ", "));
          args.push_back(name);
          break;
        }
        case KernelArg::Kind::Null: args.push_back("NULL"); break;
        case KernelArg::Kind::Integer: args.push_back(std::to_string(arg.integer)); break;
        case KernelArg::Kind::Scratch: args.push_back(scratchPointer(call.node)); break;
        }
      }
      const std::string callText =
          fmt::format("{}({});\n", call.function, fmt::join(args, ", "));
      if (!masked) {
        if (locals.empty()) body += "  " + callText;
        else body += "  {\n" + locals + "    " + callText + "  }\n";
      } else {
        body += fmt::format("  if (heads & 0x{:x}u) {{\n{}    {}  }}\n", options_.callMasks[k],
                            locals, callText);
      }
    }
    out += "\n" + portTable("input", program_.inputs) + portTable("output", program_.outputs);
    out += fmt::format("\nvoid {0}init(void) {{ memset({0}arena, 0, sizeof {0}arena); }}\n", p_);
    if (masked) {
      out += fmt::format("\nvoid {}run_heads(uint32_t heads) {{\n{}}}\n", p_, body);
      out += fmt::format("\nvoid {0}run(void) {{ {0}run_heads(0xffffffffu); }}\n", p_);
    } else {
      out += fmt::format("\nvoid {}run(void) {{\n{}}}\n", p_, body);
    }
    out += accessors();
    return out;
  }

  int64_t slotOf(const Value *value) const {
    auto slot = plan_.values.find(value);
    return slot == plan_.values.end() ? -1 : slot->second.offset;
  }

  std::string accessors() const {
    std::string out = fmt::format(R"(
{0}element_t *{0}input(int index) {{
  return index >= 0 && index < {1}INPUT_COUNT ? {0}inputs[index] : NULL;
}}

const {0}element_t *{0}output(int index) {{
  return index >= 0 && index < {1}OUTPUT_COUNT ? {0}outputs[index] : NULL;
}}

int32_t {0}input_size(int index) {{
  return index >= 0 && index < {1}INPUT_COUNT ? {0}input_sizes[index] : 0;
}}

int32_t {0}output_size(int index) {{
  return index >= 0 && index < {1}OUTPUT_COUNT ? {0}output_sizes[index] : 0;
}}
)",
                                  p_, P_);
    if (!int8_) {
      out += fmt::format(R"(
void {0}set_input_f32(int index, const float *values) {{
  if (index >= 0 && index < {1}INPUT_COUNT)
    memcpy({0}inputs[index], values, (size_t){0}input_sizes[index] * sizeof(float));
}}

void {0}get_output_f32(int index, float *values) {{
  if (index >= 0 && index < {1}OUTPUT_COUNT)
    memcpy(values, {0}outputs[index], (size_t){0}output_sizes[index] * sizeof(float));
}}
)",
                         p_, P_);
      return out;
    }
    out += fmt::format(R"(
float {0}input_scale(int index) {{
  return index >= 0 && index < {1}INPUT_COUNT ? {0}input_scales[index] : 0.0f;
}}

int32_t {0}input_zero_point(int index) {{
  return index >= 0 && index < {1}INPUT_COUNT ? {0}input_zero_points[index] : 0;
}}

float {0}output_scale(int index) {{
  return index >= 0 && index < {1}OUTPUT_COUNT ? {0}output_scales[index] : 0.0f;
}}

int32_t {0}output_zero_point(int index) {{
  return index >= 0 && index < {1}OUTPUT_COUNT ? {0}output_zero_points[index] : 0;
}}

/* Round half away from zero for |t| <= 512, without libm: the truncation and the fraction are
 * exact in float at that magnitude. */
static int32_t {0}round(float t) {{
  int32_t i = (int32_t)t;
  const float fraction = t - (float)i;
  if (fraction >= 0.5f) ++i;
  else if (fraction <= -0.5f) --i;
  return i;
}}

void {0}set_input_f32(int index, const float *values) {{
  int32_t i;
  if (index < 0 || index >= {1}INPUT_COUNT) return;
  for (i = 0; i < {0}input_sizes[index]; ++i) {{
    float t = values[i] / {0}input_scales[index];
    int32_t q;
    if (t != t) t = 0.0f; /* NaN */
    if (t > 512.0f) t = 512.0f;
    if (t < -512.0f) t = -512.0f;
    q = {0}round(t) + {0}input_zero_points[index];
    {0}inputs[index][i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
  }}
}}

void {0}get_output_f32(int index, float *values) {{
  int32_t i;
  if (index < 0 || index >= {1}OUTPUT_COUNT) return;
  for (i = 0; i < {0}output_sizes[index]; ++i)
    values[i] = (float)((int32_t){0}outputs[index][i] - {0}output_zero_points[index]) *
                {0}output_scales[index];
}}
)",
                       p_, P_);
    return out;
  }

  std::string weights() const {
    std::string out = banner("Weights (const: placed in flash)");
    out += int8_ ? "#include \"es_s8.h\"\n" : "#include \"es_f32.h\"\n";
    bool needsMath = false;
    for (const ConstantArray &array : program_.constants)
      for (size_t i = 0; i < array.count && !needsMath; ++i)
        needsMath = array.printElement(i).find("INFINITY") != std::string::npos;
    if (needsMath) out += "#include <math.h>\n";
    for (const ConstantArray &array : program_.constants) {
      out += fmt::format("\nconst {} {}{}[{}] = {{", array.elementType, p_, array.symbol,
                         std::max<size_t>(array.count, 1));
      const bool structured = array.elementType.rfind("es_", 0) == 0;
      const size_t perLine = structured ? 1 : (array.elementType == "float" ? 8 : 16);
      if (array.count == 0) out += "0";
      for (size_t i = 0; i < array.count; ++i) {
        if (i % perLine == 0) out += "\n   ";
        out += " " + array.printElement(i) + ",";
      }
      out += "\n};\n";
    }
    return out;
  }

  std::vector<std::string> ownSources() const {
    std::vector<std::string> files = {"model.c", "weights.c"};
    for (const auto &[path, text] : options_.extraFiles)
      if (path.size() > 2 && path.substr(path.size() - 2) == ".c") files.push_back(path);
    return files;
  }

  std::string cmake(const std::vector<std::string> &sources) const {
    std::vector<std::string> files = ownSources();
    for (const std::string &source : sources) files.push_back("runtime/" + source);
    return fmt::format(
        "# Device '{0}' generated by edgesplit {1}: add_subdirectory() this folder and link\n"
        "# {2}model.\ncmake_minimum_required(VERSION 3.13)\nproject({2}model C)\n\n"
        "add_library({2}model STATIC\n  {3})\n"
        "target_include_directories({2}model PUBLIC ${{CMAKE_CURRENT_SOURCE_DIR}}\n"
        "  ${{CMAKE_CURRENT_SOURCE_DIR}}/runtime/include)\n"
        "set_target_properties({2}model PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON)\n{4}",
        options_.device, options_.version, p_, fmt::join(files, "\n  "),
        int8_ ? "" : "find_library(M_LIBRARY m)\nif(M_LIBRARY)\n  target_link_libraries(" + p_ +
                         "model PUBLIC ${M_LIBRARY})\nendif()\n");
  }

  std::string makefile(const std::vector<std::string> &sources) const {
    std::vector<std::string> files = ownSources();
    for (const std::string &source : sources) files.push_back("runtime/" + source);
    std::vector<std::string> paths;
    for (const std::string &file : files) paths.push_back(fmt::format("$({}DIR){}", P_, file));
    return fmt::format(
        "# Device '{0}' generated by edgesplit {1}. In your Makefile:\n"
        "#   include path/to/{0}/model.mk\n"
        "#   CFLAGS += $({2}CFLAGS); add $({2}SOURCES) to your sources{3}.\n"
        "{2}DIR := $(dir $(lastword $(MAKEFILE_LIST)))\n"
        "{2}SOURCES := {4}\n"
        "{2}CFLAGS := -std=c99 -I$({2}DIR) -I$({2}DIR)runtime/include\n{5}",
        options_.device, options_.version, P_, int8_ ? "" : " and $(" + P_ + "LDLIBS) to LDLIBS",
        fmt::join(paths, " \\\n  "), int8_ ? "" : P_ + "LDLIBS := -lm\n");
  }

  const Program &program_;
  const MemoryPlan &plan_;
  const EmitOptions &options_;
  const std::string p_, P_;
  const bool int8_;
  const std::string element_;
};

} // namespace

SourceFiles emitDevice(const Program &program, const MemoryPlan &plan,
                       const EmitOptions &options) {
  return DeviceWriter(program, plan, options).write();
}

std::string emitRunDriver(const std::string &device, size_t bufferFloats) {
  return fmt::format(R"(/* Driver of `edgesplit run` for device '{2}'. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ES_BOARD
#include "board.h"
#else
#define ES_MARK() ((void)0)
#define es_stack_paint() ((void)0)
#define es_stack_record() ((void)0)
#endif

static float buffer[{3}];

static int fail(const char *message, const char *path) {{
  fprintf(stderr, "edgesplit run driver: %s: %s\n", message, path);
  return 1;
}}

int main(int argc, char **argv) {{
  FILE *in[{1}INPUT_COUNT + 1], *out[{1}OUTPUT_COUNT + 1];
  long samples, s;
  int i, raw;
  if (argc != 3 + {1}INPUT_COUNT + {1}OUTPUT_COUNT) return fail("usage", "run raw|float SAMPLES IN... OUT...");
  raw = strcmp(argv[1], "raw") == 0;
  samples = strtol(argv[2], NULL, 10);
  for (i = 0; i < {1}INPUT_COUNT; ++i)
    if (!(in[i] = fopen(argv[3 + i], "rb"))) return fail("cannot read", argv[3 + i]);
  for (i = 0; i < {1}OUTPUT_COUNT; ++i)
    if (!(out[i] = fopen(argv[3 + {1}INPUT_COUNT + i], "wb")))
      return fail("cannot write", argv[3 + {1}INPUT_COUNT + i]);
  {0}init();
  for (s = 0; s < samples; ++s) {{
    ES_MARK();
    for (i = 0; i < {1}INPUT_COUNT; ++i) {{
      size_t n = (size_t){0}input_size(i);
      if (fread(buffer, sizeof(float), n, in[i]) != n) return fail("short input", argv[3 + i]);
      {0}set_input_f32(i, buffer);
    }}
    ES_MARK();
    es_stack_paint();
    ES_MARK();
    {0}run();
    ES_MARK();
    es_stack_record();
    ES_MARK();
    for (i = 0; i < {1}OUTPUT_COUNT; ++i) {{
      size_t n = (size_t){0}output_size(i);
      if (raw) {{
        fwrite({0}output(i), sizeof({0}element_t), n, out[i]);
      }} else {{
        {0}get_output_f32(i, buffer);
        fwrite(buffer, sizeof(float), n, out[i]);
      }}
    }}
    ES_MARK();
  }}
  for (i = 0; i < {1}INPUT_COUNT; ++i) fclose(in[i]);
  for (i = 0; i < {1}OUTPUT_COUNT; ++i)
    if (fclose(out[i]) != 0) return fail("cannot write", argv[3 + {1}INPUT_COUNT + i]);
  return 0;
}}
)",
                     devicePrefix(device), upperCase(devicePrefix(device)), commentSafe(device),
                     std::max<size_t>(bufferFloats, 1));
}

} // namespace edgesplit
