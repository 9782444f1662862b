"""The leaderboard's own tasks: which lighteval tasks score each of our six benchmark formats.

Pure data, no lighteval import (the runner venv does not hold lighteval; runners/evaluate_lighteval.py
runs in its own). The lists are those of lighteval 0.13.0 (gpu-runners/lighteval.lock),
src/lighteval/tasks/multilingual/tasks/arabic.py, which replaced community_tasks/arabic_evals.py:
ALGHAFA_SUBSETS (the native AlGhafa set), ARABIC_MMLU_SUBSETS less "All" (the union of the other
subjects, which the Open Arabic LLM Leaderboard v2 does not score twice), the single arabic_exams task,
MADINAH_QA_SUBSETS, ARATRUST_SUBSETS and ARABIC_MMLU_HT_SUBSETS. Since 0.13.0 a task is named
`<task>|<few-shot>`; the older `community|<task>|0|0` form is no longer parsed.

runners/evaluate_lighteval.py checks each name against lighteval's own table when it runs, so a
lighteval upgrade that renames a subset fails loudly instead of scoring fewer subsets.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """The lighteval tasks of one benchmark, read from one dataset repo of the hub."""
    prefix: str  # the task name before ':' (or the whole name for a single task)
    hf_repo: str  # the dataset repo every task of the family reads
    split: str  # the split lighteval evaluates
    subsets: tuple[str, ...]  # hf_subset of each task; () for a single task on the repo's default config

    def task_names(self) -> list[str]:
        if not self.subsets:
            return [self.prefix]
        return [f"{self.prefix}:{s}" for s in self.subsets]

    def subset_of(self, task: str) -> str:
        return task.split(":", 1)[1] if self.subsets else "default"


ALGHAFA_NATIVE = (
    "mcq_exams_test_ar", "meta_ar_dialects", "meta_ar_msa", "multiple_choice_facts_truefalse_balanced_task",
    "multiple_choice_grounded_statement_soqal_task", "multiple_choice_grounded_statement_xglue_mlqa_task",
    "multiple_choice_rating_sentiment_no_neutral_task", "multiple_choice_rating_sentiment_task",
    "multiple_choice_sentiment_task",
)

ARABIC_MMLU_SUBJECTS = (
    "Islamic Studies", "Islamic Studies (Middle School)", "Islamic Studies (Primary School)",
    "Islamic Studies (High School)", "Driving Test", "Natural Science (Middle School)",
    "Natural Science (Primary School)", "History (Middle School)", "History (Primary School)",
    "History (High School)", "General Knowledge", "General Knowledge (Middle School)",
    "General Knowledge (Primary School)", "Law (Professional)", "Physics (High School)",
    "Social Science (Middle School)", "Social Science (Primary School)", "Management (University)",
    "Arabic Language (Middle School)", "Arabic Language (Primary School)", "Arabic Language (High School)",
    "Political Science (University)", "Philosophy (High School)", "Accounting (University)",
    "Computer Science (Middle School)", "Computer Science (Primary School)", "Computer Science (High School)",
    "Computer Science (University)", "Geography (Middle School)", "Geography (Primary School)",
    "Geography (High School)", "Math (Primary School)", "Biology (High School)", "Economics (Middle School)",
    "Economics (High School)", "Economics (University)", "Arabic Language (General)",
    "Arabic Language (Grammar)", "Civics (Middle School)", "Civics (High School)",
)

MADINAH_QA_SUBSETS = ("Arabic Language (General)", "Arabic Language (Grammar)")

ARATRUST_SUBSETS = ("Trustfulness", "MentalHealth", "PhysicalHealth", "Offensive", "Ethics", "Privacy",
                    "Unfairness", "Illegal")

ARBMMLU_HT_SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
    "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine",
    "college_physics", "computer_security", "conceptual_physics", "econometrics", "electrical_engineering",
    "elementary_mathematics", "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics", "high_school_mathematics",
    "high_school_microeconomics", "high_school_physics", "high_school_psychology", "high_school_statistics",
    "high_school_us_history", "high_school_world_history", "human_aging", "human_sexuality",
    "international_law", "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
    "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition", "philosophy",
    "prehistory", "professional_accounting", "professional_law", "professional_medicine",
    "professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy",
    "virology", "world_religions",
)

# Keyed by our benchmark formats (contracts/recipe.ts BenchmarkFormat, oall_formats.LAYOUTS).
FAMILIES: dict[str, Family] = {
    "alghafa": Family("alghafa", "OALL/AlGhafa-Arabic-LLM-Benchmark-Native", "test", ALGHAFA_NATIVE),
    "arabic_mmlu": Family("arabic_mmlu", "MBZUAI/ArabicMMLU", "test", ARABIC_MMLU_SUBJECTS),
    "exams": Family("arabic_exams", "OALL/Arabic_EXAMS", "test", ()),
    "madinah_qa": Family("madinah_qa", "MBZUAI/MadinahQA", "test", MADINAH_QA_SUBSETS),
    "aratrust": Family("aratrust", "asas-ai/AraTrust-categorized", "train", ARATRUST_SUBSETS),
    "arbmmlu_ht": Family("arabic_mmlu_ht", "MBZUAI/human_translated_arabic_mmlu", "test", ARBMMLU_HT_SUBJECTS),
}

FEW_SHOT = 0  # the leaderboard scores zero-shot, as the own harness does


def task_spec(task: str) -> str:
    """The name lighteval's task list reads: 'arabic_mmlu:Driving Test|0'."""
    return f"{task}|{FEW_SHOT}"
