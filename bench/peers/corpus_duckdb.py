"""The DuckDB-from-Python peer of bench/corpus.ts: the same filters, dedup and bilingual assembly
as activities/corpus, as one plain SQL script through the duckdb Python package (same engine
version as @duckdb/node-api, default settings).

    python bench/peers/corpus_duckdb.py OPUS.parquet OUT_DIR

Writes OUT_DIR/pairs.parquet and OUT_DIR/bilingual.parquet; prints one JSON line {"seconds", "kept"}.
"""
from __future__ import annotations

import json
import sys
import time

import duckdb

SPACE = r"[\s\p{Z}]"
TRIM = lambda c: f"regexp_replace({c}, '^{SPACE}+|{SPACE}+$', '', 'g')"  # noqa: E731


def share(c: str, cls: str) -> str:
    letters = f"regexp_replace({c}, '\\P{{L}}', '', 'g')"
    return f"coalesce(length(regexp_replace({letters}, '[^{cls}]', '', 'g')) / nullif(length({letters}), 0), 0)"


def near(c: str) -> str:
    return TRIM(f"regexp_replace(regexp_replace(lower({c}), '[\\p{{P}}\\p{{N}}]', '', 'g'), '{SPACE}+', ' ', 'g')")


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    con = duckdb.connect()
    src_share, tgt_share = share("source", "\\p{Latin}"), share("target", "\\p{Arabic}")
    near_src, near_tgt, trim_en, trim_ar = near("source"), near("target"), TRIM("translation.en"), TRIM("translation.ar")
    con.execute(f"""
      CREATE TABLE kept AS
      WITH raw AS (
        SELECT file_row_number AS ord, {trim_en} AS source, {trim_ar} AS target
        FROM read_parquet('{src}', file_row_number = true)),
      judged AS (
        SELECT * FROM raw
        WHERE source IS NOT NULL AND target IS NOT NULL AND source <> '' AND target <> ''
          AND lower(source) <> lower(target)
          AND least(length(source), length(target)) >= 1
          AND greatest(length(source), length(target)) <= 1000
          AND greatest(length(source), length(target)) <= 3 * least(length(source), length(target))
          AND {src_share} >= 0.5 AND {tgt_share} >= 0.5),
      exact AS (SELECT * FROM judged QUALIFY row_number() OVER (PARTITION BY source, target ORDER BY ord) = 1)
      SELECT ord, CAST(ord AS VARCHAR) AS id, source, target FROM exact
      QUALIFY row_number() OVER (PARTITION BY {near_src}, {near_tgt} ORDER BY ord) = 1""")
    con.execute(f"COPY (SELECT id, source, target FROM kept ORDER BY ord) TO '{out}/pairs.parquet' (FORMAT parquet, COMPRESSION zstd)")
    fwd = "Translate everything that follows into Arabic:\n\n"
    rev = "Translate everything that follows into English:\n\n"
    con.execute(f"""COPY (
      SELECT id, messages FROM (
        SELECT 'opus:' || id || ':en-ar' AS id,
               [struct_pack(role := 'user', content := $fwd || source), struct_pack(role := 'assistant', content := target)] AS messages
        FROM kept
        UNION ALL
        SELECT 'opus:' || id || ':ar-en',
               [struct_pack(role := 'user', content := $rev || target), struct_pack(role := 'assistant', content := source)]
        FROM kept)
      ORDER BY md5('0:' || id), id) TO '{out}/bilingual.parquet' (FORMAT parquet, COMPRESSION zstd)""",
                {"fwd": fwd, "rev": rev})
    kept = con.execute("SELECT count(*) FROM kept").fetchone()[0]
    print(json.dumps({"seconds": time.perf_counter() - t0, "kept": kept}))


if __name__ == "__main__":
    main()
