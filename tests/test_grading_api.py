"""The public grading API (`from cfteval.grading import ...`) and the TRL-shaped reward, the
latter inside one real `trl.GRPOTrainer` step on the tiny model on CPU."""

from __future__ import annotations

import pytest

from cfteval.grading import MathReward, extract_answer, grade_batch, verify


def test_extract_and_verify() -> None:
    assert extract_answer("So the answer is $\\boxed{\\frac12}$.") == "\\frac12"
    assert extract_answer("The answer is (C).", "multiple_choice", benchmark="gpqa") == "C"
    assert extract_answer("Still checking whether 7 is", finish_reason="length") is None
    assert verify("1/2", "Thus the answer is 0.5.")
    assert not verify("1/2", "Thus the answer is 0.25.")
    assert verify("C", "The answer is (C).", benchmark="gpqa_diamond")
    assert verify("True", "The answer is \\boxed{True}", benchmark="theoremqa")


def test_verify_under_a_time_limit_in_a_worker() -> None:
    assert verify("7", "The answer is 7.", timeout=30)
    assert not verify("1", "\\boxed{9^{9^{9^{9}}}}", timeout=30)


def test_grade_batch_keeps_order_and_checks_lengths() -> None:
    results = grade_batch(["\\boxed{2}", "no idea", "\\boxed{4}"], ["2", "3", "5"], timeout=30)
    assert [r.correct for r in results] == [True, False, False]
    assert [r.extracted for r in results][::2] == ["2", "4"]
    with pytest.raises(ValueError, match="golds"):
        grade_batch(["1"], ["1", "2"])


def test_math_reward_takes_trl_shaped_arguments() -> None:
    reward = MathReward(timeout=30, workers=1)
    try:
        conversational = [{"role": "assistant", "content": "The answer is $\\boxed{5}$."}]
        rewards = reward(
            ["\\boxed{4}", conversational, "I give up"],
            prompts=["p1", "p2", "p3"],
            answer=["4", "6", "1"],
        )
        assert rewards == [1.0, 0.0, 0.0]
        with pytest.raises(KeyError, match="answer"):
            reward(["\\boxed{4}"], solution=["4"])
    finally:
        reward.close()


@pytest.mark.slow
def test_math_reward_in_one_real_grpo_step(tiny_model_dir, tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")

    train = datasets.Dataset.from_dict(
        {
            "prompt": ["What is 2 + 2? Answer in a box.", "What is 3 + 4? Answer in a box."] * 2,
            "answer": ["4", "7"] * 2,
        }
    )
    calls: list[list[float]] = []
    reward = MathReward(timeout=30, workers=1)

    def recorded_reward(completions, **columns):
        rewards = reward(completions, **columns)
        calls.append(rewards)
        return rewards

    config = trl.GRPOConfig(
        output_dir=str(tmp_path / "grpo"),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=8,
        max_steps=1,
        learning_rate=1e-5,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        seed=0,
    )
    trainer = trl.GRPOTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[recorded_reward],
        args=config,
        train_dataset=train,
    )
    try:
        trainer.train()
    finally:
        reward.close()
    assert calls, "the trainer never called the reward"
    assert all(value in (0.0, 1.0) for rewards in calls for value in rewards)
    assert trainer.state.global_step == 1
