<?php
/**
 * Bluepaid for PrestaShop 1.7 and 8.x: the shop side of the bluepaid-plugins connector.
 *
 * At checkout it creates the order in its own "Awaiting Bluepaid payment" state and
 * sends the buyer to the hub's pay URL with the order's id and secure_key (the proof
 * that the buyer holds the order). Everything after that happens in the hub, which
 * reads and updates the order through the webservice: this module never marks an
 * order paid itself, so a forged return to the shop cannot pay anything.
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

class Bluepaid extends PaymentModule
{
    /** The hub's pay URL template, as `bluepaid shop add` prints it (pay_url_template). */
    const PAY_URL = 'BLUEPAID_PAY_URL';
    /** The id of the order state this module creates orders in. */
    const WAITING_STATE = 'BLUEPAID_OS_WAITING';

    public function __construct()
    {
        $this->name = 'bluepaid';
        $this->tab = 'payments_gateways';
        $this->version = '1.0.0';
        $this->author = 'bluepaid-plugins';
        $this->controllers = ['redirect'];
        $this->currencies = true;
        $this->currencies_mode = 'checkbox';
        $this->bootstrap = true;
        $this->ps_versions_compliancy = ['min' => '1.7.0.0', 'max' => _PS_VERSION_];
        parent::__construct();
        $this->displayName = 'Bluepaid';
        $this->description = 'Card payment on the Bluepaid payment page, through the bluepaid-plugins hub.';
    }

    public function install()
    {
        return parent::install() && $this->registerHook('paymentOptions') && $this->addWaitingState();
    }

    public function uninstall()
    {
        // The waiting state stays: existing orders refer to it.
        Configuration::deleteByName(self::PAY_URL);

        return parent::uninstall();
    }

    /**
     * True for a pay URL template the hub prints: http(s), with both placeholders.
     */
    public static function isPayUrlTemplate($template)
    {
        return is_string($template)
            && preg_match('#^https?://[^\s]+$#', $template) === 1
            && strpos($template, '{order_ref}') !== false
            && strpos($template, '{key}') !== false;
    }

    /**
     * True once the hub's pay URL is set and the waiting state exists.
     */
    public static function isReady()
    {
        return self::isPayUrlTemplate(Configuration::get(self::PAY_URL))
            && (int) Configuration::get(self::WAITING_STATE) > 0;
    }

    /**
     * The URL the buyer of order $idOrder opens to pay it, from the hub's template.
     */
    public static function payUrl($template, $idOrder, $secureKey)
    {
        return str_replace(
            ['{order_ref}', '{key}'],
            [rawurlencode((string) (int) $idOrder), rawurlencode((string) $secureKey)],
            $template
        );
    }

    public function hookPaymentOptions($params)
    {
        if (!$this->active || !self::isReady()) {
            return [];
        }
        $option = new PrestaShop\PrestaShop\Core\Payment\PaymentOption();
        $option->setModuleName($this->name)
            ->setCallToActionText($this->l('Pay by card with Bluepaid'))
            ->setAction($this->context->link->getModuleLink($this->name, 'redirect', [], true));

        return [$option];
    }

    public function getContent()
    {
        $output = '';
        if (Tools::isSubmit('submitBluepaid')) {
            $template = trim((string) Tools::getValue(self::PAY_URL));
            if (self::isPayUrlTemplate($template)) {
                Configuration::updateValue(self::PAY_URL, $template);
                $output .= $this->displayConfirmation($this->l('Saved.'));
            } else {
                $output .= $this->displayError(
                    $this->l('Paste the pay_url_template printed by "bluepaid shop add", with {order_ref} and {key}.')
                );
            }
        }
        $action = AdminController::$currentIndex . '&configure=' . $this->name
            . '&token=' . Tools::getAdminTokenLite('AdminModules');

        return $output
            . '<form method="post" action="' . htmlspecialchars($action, ENT_QUOTES) . '" class="defaultForm form-horizontal">'
            . '<div class="panel"><div class="form-group">'
            . '<label class="control-label col-lg-3" for="bluepaid-pay-url">' . $this->l('Hub pay URL template') . '</label>'
            . '<div class="col-lg-9"><input type="text" id="bluepaid-pay-url" name="' . self::PAY_URL . '" value="'
            . htmlspecialchars((string) Configuration::get(self::PAY_URL), ENT_QUOTES) . '"></div></div>'
            . '<div class="panel-footer"><button type="submit" name="submitBluepaid" class="btn btn-default pull-right">'
            . $this->l('Save') . '</button></div></div></form>';
    }

    private function addWaitingState()
    {
        if ((int) Configuration::get(self::WAITING_STATE) > 0) {
            return true;
        }
        $state = new OrderState();
        $state->name = [];
        foreach (Language::getLanguages(false) as $language) {
            $state->name[(int) $language['id_lang']] = 'Awaiting Bluepaid payment';
        }
        $state->module_name = $this->name;
        $state->color = '#4169E1';
        $state->unremovable = true;
        $state->send_email = false;
        $state->logable = false;
        $state->paid = false;
        $state->invoice = false;
        $state->hidden = false;
        $state->delivery = false;
        $state->shipped = false;

        return $state->add() && Configuration::updateValue(self::WAITING_STATE, (int) $state->id);
    }
}
