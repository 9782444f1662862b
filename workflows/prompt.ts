/** The prompt with the language filled in; `{text}` stays for the runner. */
export function promptFor(template: string, languageName: string): string {
  return template.split('{target_name}').join(languageName);
}
