// Typed search attributes that make campaigns auditable from the Temporal UI and `temporal
// workflow list --query`: e.g. `HalaCampaign = "tiny-20261126-040000" AND HalaStage = "merge-hala-350m"`.
// This list is the one definition: `hala setup` (platform/cluster-setup.ts, which `hala up` runs too)
// registers exactly these, with these types, in any namespace; the workflow tests' server gets them too.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HalaCampaign = defineSearchAttributeKey('HalaCampaign', SearchAttributeType.KEYWORD);
export const HalaStage = defineSearchAttributeKey('HalaStage', SearchAttributeType.KEYWORD);
export const HalaRecipeHash = defineSearchAttributeKey('HalaRecipeHash', SearchAttributeType.KEYWORD);
export const HalaModel = defineSearchAttributeKey('HalaModel', SearchAttributeType.KEYWORD);
export const HalaStageKey = defineSearchAttributeKey('HalaStageKey', SearchAttributeType.KEYWORD);

export const halaSearchAttributes = [HalaCampaign, HalaStage, HalaRecipeHash, HalaModel, HalaStageKey];
