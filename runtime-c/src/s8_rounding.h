/* Which of docs/int8.md's two rescaling rules the int8 kernels of this build apply ("Fixed-point
 * rescaling"): ES_S8_SINGLE_ROUNDING 1 rounds acc * multiplier / 2^(31 - shift) once, as
 * onnxruntime's float requantisation does (the compiler chooses it for the layers whose
 * parameters it calibrated); 0 rounds twice, as TFLite and CMSIS-NN do (models that carry their
 * own parameters keep it, so that they compute what those stacks compute). `edgesplit compile`
 * writes this file with the build's rule fixed, so that only that rule's code is compiled.
 *
 * The compiler itself runs the kernels in-process for both kinds of build: it compiles them with
 * ES_S8_ROUNDING_AT_RUN_TIME, and the rule is the variable es_s8_single_rounding. */
#ifndef ES_S8_ROUNDING_H
#define ES_S8_ROUNDING_H

#if defined(ES_S8_ROUNDING_AT_RUN_TIME)
extern int es_s8_single_rounding;
#undef ES_S8_SINGLE_ROUNDING
#define ES_S8_SINGLE_ROUNDING es_s8_single_rounding
#elif !defined(ES_S8_SINGLE_ROUNDING)
#define ES_S8_SINGLE_ROUNDING 0
#endif

#endif /* ES_S8_ROUNDING_H */
