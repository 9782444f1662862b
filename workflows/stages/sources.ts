import type { SourceCheck } from '../../contracts/campaign';

/** A raw source a stage reads: `field` is the recipe path errors name, the kind what it must be. */
export const model = (uri: string, field: string): SourceCheck => ({ uri, field, kind: 'model' });
export const dataset = (uri: string, field: string): SourceCheck => ({ uri, field, kind: 'dataset' });
export const file = (uri: string, field: string): SourceCheck => ({ uri, field, kind: 'file' });
