"""The tiny model's tokenizer: a byte-level BPE trained on the project's own corpus, with
DeepSeek-V3's special tokens (BOS/EOS, chat roles, tool-call markers that vLLM's ``deepseek_v3``
tool parser looks up) and a chat template in DeepSeek-V3's role format, written as
``tokenizer.json`` + ``tokenizer_config.json`` that ``AutoTokenizer`` and vLLM load."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from inference.tiny_model.corpus import training_text
from inference.tiny_model.spec import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN

USER_TOKEN = "<｜User｜>"
ASSISTANT_TOKEN = "<｜Assistant｜>"
TOOL_CALLS_BEGIN = "<｜tool▁calls▁begin｜>"
TOOL_CALLS_END = "<｜tool▁calls▁end｜>"
TOOL_CALL_BEGIN = "<｜tool▁call▁begin｜>"
TOOL_CALL_END = "<｜tool▁call▁end｜>"
TOOL_SEP = "<｜tool▁sep｜>"
TOOL_OUTPUTS_BEGIN = "<｜tool▁outputs▁begin｜>"
TOOL_OUTPUTS_END = "<｜tool▁outputs▁end｜>"
TOOL_OUTPUT_BEGIN = "<｜tool▁output▁begin｜>"
TOOL_OUTPUT_END = "<｜tool▁output▁end｜>"

# ids 0, 1, 2 match bos/eos/pad in config.json
CONTROL_TOKENS = [BOS_TOKEN, EOS_TOKEN, PAD_TOKEN]
# kept visible in decoded text (not "special") so the tool-call parser can see them
MARKUP_TOKENS = [
    USER_TOKEN, ASSISTANT_TOKEN, TOOL_CALLS_BEGIN, TOOL_CALLS_END, TOOL_CALL_BEGIN,
    TOOL_CALL_END, TOOL_SEP, TOOL_OUTPUTS_BEGIN, TOOL_OUTPUTS_END, TOOL_OUTPUT_BEGIN,
    TOOL_OUTPUT_END,
]

# System text first, then alternating roles; an assistant turn ends with EOS. Tool calls use the
# "<type><sep><name>\n```json\n<args>\n```" body DeepSeek-V3's tool parser reads back.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- for message in messages if message['role'] == 'system' %}{{ message['content'] }}"
    "{%- endfor %}"
    "{%- if tools %}{{ '\\n\\n## Tools\\nCall a function by name with JSON arguments.' }}"
    "{%- for tool in tools %}{{ '\\n' + (tool | tojson) }}{%- endfor %}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}" + USER_TOKEN + "{{ message['content'] }}"
    "{%- elif message['role'] == 'assistant' %}" + ASSISTANT_TOKEN +
    "{%- if message['content'] %}{{ message['content'] }}{%- endif %}"
    "{%- if message.get('tool_calls') %}" + TOOL_CALLS_BEGIN +
    "{%- for call in message['tool_calls'] %}" + TOOL_CALL_BEGIN + "function" + TOOL_SEP +
    "{{ call['function']['name'] + '\\n```json\\n' }}"
    "{% if call['function']['arguments'] is string %}{{ call['function']['arguments'] }}"
    "{% else %}{{ call['function']['arguments'] | tojson }}{% endif %}"
    "{{ '\\n```' }}" + TOOL_CALL_END +
    "{%- endfor %}" + TOOL_CALLS_END + "{%- endif %}{{ eos_token }}"
    "{%- elif message['role'] == 'tool' %}" + TOOL_OUTPUTS_BEGIN + TOOL_OUTPUT_BEGIN +
    "{{ message['content'] }}" + TOOL_OUTPUT_END + TOOL_OUTPUTS_END +
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}" + ASSISTANT_TOKEN + "{%- endif %}"
)


def train_tokenizer(vocab_size: int) -> Tokenizer:
    """A byte-level BPE trained on the training corpus, padded to exactly ``vocab_size`` ids."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(MARKUP_TOKENS),
        min_frequency=2,
        special_tokens=CONTROL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_text(), trainer=trainer)
    tokenizer.add_tokens([AddedToken(t, normalized=False, special=False) for t in MARKUP_TOKENS])
    # every id the model can sample must decode, so the table is padded to the model's vocab
    reserved = vocab_size - tokenizer.get_vocab_size()
    tokenizer.add_special_tokens(
        [AddedToken(f"<｜reserved▁{i}｜>", normalized=False, special=True) for i in range(reserved)]
    )
    bos_id = tokenizer.token_to_id(BOS_TOKEN)
    # plain completions start with BOS like DeepSeek-V3's; chat prompts carry it in the template
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS_TOKEN} $A", pair=f"{BOS_TOKEN} $A $B", special_tokens=[(BOS_TOKEN, bos_id)]
    )
    return tokenizer


def write_tokenizer(tokenizer: Tokenizer, out_dir: Path, *, max_length: int) -> None:
    """Write ``tokenizer.json`` and a ``tokenizer_config.json`` carrying the chat template."""
    tokenizer.save(str(out_dir / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS_TOKEN,
        "eos_token": EOS_TOKEN,
        "pad_token": PAD_TOKEN,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_length,
        "chat_template": CHAT_TEMPLATE,
    }
    (out_dir / "tokenizer_config.json").write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
