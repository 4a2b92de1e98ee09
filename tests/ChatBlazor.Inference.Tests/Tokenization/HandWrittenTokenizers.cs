namespace ChatBlazor.Inference.Tests.Tokenization;

/// <summary>
/// Small tokenizer.json files shaped like the real ones: the same blocks, the same field names, a few dozen
/// tokens. Ids in the tests that use them are worked out by hand from the vocab and merge ranks below.
/// </summary>
internal static class HandWrittenTokenizers
{
    /// <summary>
    /// Llama 3 / SmolLM-style byte-level BPE: Split with Llama 3's regex then ByteLevel without regex,
    /// ignore_merges, merges as pairs. Ġ is the byte-level spelling of a space, Ċ of a newline.
    /// Ids 31–99 are unused, as in a padded vocabulary.
    /// </summary>
    public const string Llama3Style = """
    {
      "version": "1.0",
      "truncation": null,
      "padding": null,
      "added_tokens": [
        {"id": 100, "content": "<|begin_of_text|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 101, "content": "<|eot_id|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 102, "content": "<|reserved|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false}
      ],
      "normalizer": null,
      "pre_tokenizer": {
        "type": "Sequence",
        "pretokenizers": [
          {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
          {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}
        ]
      },
      "post_processor": {
        "type": "Sequence",
        "processors": [
          {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
          {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [100], "tokens": ["<|begin_of_text|>"]}}}
        ]
      },
      "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
      "model": {
        "type": "BPE",
        "dropout": null,
        "unk_token": null,
        "continuing_subword_prefix": null,
        "end_of_word_suffix": null,
        "fuse_unk": false,
        "byte_fallback": false,
        "ignore_merges": true,
        "vocab": {
          "H": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "Ċ": 8, "!": 9, "'": 10, "s": 11,
          "1": 12, "2": 13, "3": 14, "4": 15,
          "ll": 16, "He": 17, "Hell": 18, "Hello": 19, "Ġw": 20, "or": 21, "Ġwor": 22, "ld": 23, "Ġworld": 24,
          "ĊĊ": 25, "ĠĠ": 26, "'s": 27, "12": 28, "123": 29, "Ġold": 30
        },
        "merges": [
          ["l", "l"], ["H", "e"], ["He", "ll"], ["Hell", "o"], ["Ġ", "w"], ["o", "r"], ["Ġw", "or"], ["l", "d"],
          ["Ġwor", "ld"], ["Ċ", "Ċ"], ["Ġ", "Ġ"], ["'", "s"], ["1", "2"], ["12", "3"]
        ]
      }
    }
    """;

    /// <summary>
    /// Llama 2 / Mistral v0.1-style SentencePiece BPE: Prepend("▁") + Replace(" " → "▁") normalizer, no
    /// pre-tokenizer, byte_fallback with a handful of &lt;0xNN&gt; tokens (enough for \n, 😀 = F0 9F 98 80 and
    /// € = E2 82 AC, not for ü = C3 BC), fuse_unk, merges as "a b" strings, and the Replace / ByteFallback /
    /// Fuse / Strip decoder.
    /// </summary>
    public const string MistralLegacy = """
    {
      "version": "1.0",
      "truncation": null,
      "padding": null,
      "added_tokens": [
        {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
      ],
      "normalizer": {
        "type": "Sequence",
        "normalizers": [
          {"type": "Prepend", "prepend": "▁"},
          {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
        ]
      },
      "pre_tokenizer": null,
      "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}
      },
      "decoder": {
        "type": "Sequence",
        "decoders": [
          {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
          {"type": "ByteFallback"},
          {"type": "Fuse"},
          {"type": "Strip", "content": " ", "start": 1, "stop": 0}
        ]
      },
      "model": {
        "type": "BPE",
        "dropout": null,
        "unk_token": "<unk>",
        "continuing_subword_prefix": null,
        "end_of_word_suffix": null,
        "fuse_unk": true,
        "byte_fallback": true,
        "vocab": {
          "<unk>": 0, "<s>": 1, "</s>": 2,
          "<0x0A>": 3, "<0xF0>": 4, "<0x9F>": 5, "<0x98>": 6, "<0x80>": 7, "<0xE2>": 8, "<0x82>": 9, "<0xAC>": 10,
          "▁": 11, "H": 12, "e": 13, "l": 14, "o": 15, "w": 16, "r": 17, "d": 18, "!": 19,
          "▁H": 20, "ll": 21, "▁He": 22, "▁Hell": 23, "▁Hello": 24, "▁w": 25, "or": 26, "▁wor": 27, "ld": 28,
          "▁world": 29, "▁▁": 30, "é": 31
        },
        "merges": [
          "▁ H", "l l", "▁H e", "▁He ll", "▁Hell o", "▁ w", "o r", "▁w or", "l d", "▁wor ld", "▁ ▁"
        ]
      }
    }
    """;

    /// <summary>
    /// <see cref="MistralLegacy"/> as Mistral v0.3 / legacy=false conversions write it: no normalizer, a Metaspace
    /// pre-tokenizer with prepend_scheme "first" and split false, and [INST] / [/INST] control tokens.
    /// </summary>
    public static string MistralMetaspace => TokenizerFiles.Patch(MistralLegacy, root =>
    {
        root["normalizer"] = null;
        root["pre_tokenizer"] = TokenizerFiles.Node("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}""");
        var added = root["added_tokens"]!.AsArray();
        added.Add(TokenizerFiles.Node("""{"id": 32, "content": "[INST]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}"""));
        added.Add(TokenizerFiles.Node("""{"id": 33, "content": "[/INST]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}"""));
    });
}
