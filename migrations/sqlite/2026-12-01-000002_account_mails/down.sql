DROP TABLE account_mails;
