// Real English and Arabic sentences (and some in other languages) for the language
// identification tests and the identification benchmark. Written for this project; the Arabic is
// Modern Standard Arabic. `pairs` are correct translations; the other lists are what a corpus
// really gets wrong: a side in a third language, often in the same script (Persian, Urdu are
// Arabic-script; French, Spanish, German are Latin-script), so the script filter lets them through.

export const pairs: readonly { en: string; ar: string }[] = [
  { en: 'The weather is very nice today, so we decided to walk to the park.', ar: 'الطقس جميل جدا اليوم، لذلك قررنا أن نمشي إلى الحديقة.' },
  { en: 'My brother works as an engineer in a large company in the city.', ar: 'يعمل أخي مهندسا في شركة كبيرة في المدينة.' },
  { en: 'Please close the door when you leave the room.', ar: 'من فضلك أغلق الباب عندما تغادر الغرفة.' },
  { en: 'The children are playing football in the street after school.', ar: 'يلعب الأطفال كرة القدم في الشارع بعد المدرسة.' },
  { en: 'I have been reading this book for two weeks and I still have not finished it.', ar: 'أقرأ هذا الكتاب منذ أسبوعين ولم أنته منه بعد.' },
  { en: 'The train to the capital leaves at seven in the morning.', ar: 'يغادر القطار المتجه إلى العاصمة في الساعة السابعة صباحا.' },
  { en: 'She bought fresh vegetables and bread from the market.', ar: 'اشترت خضروات طازجة وخبزا من السوق.' },
  { en: 'Can you tell me where the nearest hospital is?', ar: 'هل يمكنك أن تخبرني أين يقع أقرب مستشفى؟' },
  { en: 'The government announced new measures to support small businesses.', ar: 'أعلنت الحكومة عن إجراءات جديدة لدعم الشركات الصغيرة.' },
  { en: 'We need to finish this project before the end of the month.', ar: 'نحتاج إلى إنهاء هذا المشروع قبل نهاية الشهر.' },
  { en: 'Water boils at one hundred degrees Celsius at sea level.', ar: 'يغلي الماء عند درجة مئة مئوية عند مستوى سطح البحر.' },
  { en: 'The students asked the teacher to explain the lesson again.', ar: 'طلب الطلاب من المعلم أن يشرح الدرس مرة أخرى.' },
  { en: 'My grandmother tells us old stories every evening.', ar: 'تحكي لنا جدتي قصصا قديمة كل مساء.' },
  { en: 'The museum is closed on Mondays for maintenance.', ar: 'المتحف مغلق أيام الاثنين من أجل الصيانة.' },
  { en: 'He forgot his keys at home and had to wait outside.', ar: 'نسي مفاتيحه في البيت واضطر إلى الانتظار في الخارج.' },
  { en: 'Doctors recommend drinking enough water every day.', ar: 'ينصح الأطباء بشرب كمية كافية من الماء كل يوم.' },
  { en: 'The new library has thousands of books in many languages.', ar: 'تضم المكتبة الجديدة آلاف الكتب بلغات كثيرة.' },
  { en: 'We watched the sunset from the top of the mountain.', ar: 'شاهدنا غروب الشمس من قمة الجبل.' },
  { en: 'The meeting was postponed until next Tuesday.', ar: 'تم تأجيل الاجتماع حتى يوم الثلاثاء القادم.' },
  { en: 'Farmers are worried because it has not rained this year.', ar: 'المزارعون قلقون لأن المطر لم يهطل هذا العام.' },
  { en: 'I would like a cup of coffee without sugar, please.', ar: 'أريد فنجان قهوة بدون سكر من فضلك.' },
  { en: 'The company opened a new branch in Dubai last year.', ar: 'افتتحت الشركة فرعا جديدا في دبي العام الماضي.' },
  { en: 'Learning a new language takes time and patience.', ar: 'يحتاج تعلم لغة جديدة إلى وقت وصبر.' },
  { en: 'The police closed the road after the accident.', ar: 'أغلقت الشرطة الطريق بعد الحادث.' },
  { en: 'Thank you very much for your help yesterday.', ar: 'شكرا جزيلا على مساعدتك أمس.' },
  { en: 'Where did you spend your summer holiday?', ar: 'أين قضيت عطلتك الصيفية؟' },
  { en: 'The price of oil rose sharply this week.', ar: 'ارتفع سعر النفط بشكل حاد هذا الأسبوع.' },
  { en: 'Our team won the match by two goals.', ar: 'فاز فريقنا في المباراة بهدفين.' },
  { en: 'The scientists published their results in an international journal.', ar: 'نشر العلماء نتائجهم في مجلة دولية.' },
  { en: 'Do not forget to turn off the lights before you sleep.', ar: 'لا تنس أن تطفئ الأنوار قبل أن تنام.' },
];

/** Sentences in a third language, by what they should be taken for. */
export const otherLanguages: readonly { lang: string; text: string }[] = [
  { lang: 'fr', text: 'Le temps est très beau aujourd’hui, alors nous avons décidé de marcher jusqu’au parc.' },
  { lang: 'fr', text: 'Pouvez-vous me dire où se trouve l’hôpital le plus proche ?' },
  { lang: 'es', text: 'Los niños juegan al fútbol en la calle después de la escuela.' },
  { lang: 'es', text: 'Necesitamos terminar este proyecto antes del final del mes.' },
  { lang: 'de', text: 'Mein Bruder arbeitet als Ingenieur in einer großen Firma in der Stadt.' },
  { lang: 'fa', text: 'هوا امروز خیلی خوب است، پس تصمیم گرفتیم تا پارک پیاده برویم.' },
  { lang: 'fa', text: 'لطفا وقتی از اتاق بیرون می‌روید در را ببندید.' },
  { lang: 'ur', text: 'بچے اسکول کے بعد گلی میں فٹ بال کھیل رہے ہیں۔' },
  { lang: 'ur', text: 'میرا بھائی شہر کی ایک بڑی کمپنی میں انجینئر کے طور پر کام کرتا ہے۔' },
];

/** Hard cases: each with what a careful identifier should say of it. */
export const hard = {
  /** English with an Arabic name in it: still English. */
  mixedEnglish: 'We met Mohammed (محمد) at the airport in Riyadh yesterday afternoon.',
  /** Arabic with a brand name in Latin letters: still Arabic. */
  mixedArabic: 'اشتريت هاتفا جديدا من نوع Samsung من المتجر القريب من بيتي.',
  /** Too short to judge: an identifier must not quarantine these on a guess. */
  shortEnglish: 'OK',
  shortArabic: 'نعم',
  /** Arabic written in Latin letters (Arabizi): the Arabic side of a pair in the wrong form. */
  arabizi: 'ana ra7 aroo7 3al souq bokra insha2allah',
};

/** The recipe's language block for these samples' pair (a recipe has no default target language). */
export const arabicNames = { target: 'ar', target_name: 'Arabic' } as const;
export const arabicLanguage = { ...arabicNames, target_script: 'arabic' } as const;
